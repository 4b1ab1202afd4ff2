"""The active detection tag of each symbol, with expiry: what the engine stamps onto signals."""

from __future__ import annotations

from app.domain.detection import Detection, DetectionKind

_NEVER = -(2**63)


class DetectionTags:
    """Both detectors' events in, one tag per symbol out: FAST while a fast detection is in
    force, else SLOW while a slow one is, else none. A tag holds while `now_ns < until_ns`; a
    later detection of the same kind extends it, never shortens it. Expired symbols are
    forgotten when `tagged` runs, so memory follows the symbols tagged lately."""

    def __init__(self) -> None:
        self._fast: dict[str, int] = {}
        self._slow: dict[str, int] = {}

    def record(self, detection: Detection) -> None:
        until = self._fast if detection.kind is DetectionKind.FAST else self._slow
        symbol = detection.symbol
        until[symbol] = max(until.get(symbol, _NEVER), detection.until_ns)

    def active(self, symbol: str, now_ns: int) -> DetectionKind | None:
        if now_ns < self._fast.get(symbol, _NEVER):
            return DetectionKind.FAST
        if now_ns < self._slow.get(symbol, _NEVER):
            return DetectionKind.SLOW
        return None

    def tagged(self, now_ns: int) -> list[tuple[str, DetectionKind]]:
        """Every symbol tagged at `now_ns` with its tag, in no particular order."""
        for until in (self._fast, self._slow):
            for symbol in [s for s, end in until.items() if end <= now_ns]:
                del until[symbol]
        tags = dict.fromkeys(self._slow, DetectionKind.SLOW)
        tags.update(dict.fromkeys(self._fast, DetectionKind.FAST))
        return list(tags.items())
