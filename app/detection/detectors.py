"""The one object a shard engine holds: both detectors, the tags they set, events to publish."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from app.detection.config import FastMoverConfig, SlowMoverConfig
from app.detection.fast import FastMoverDetector
from app.detection.slow import SlowMoverDetector
from app.detection.tags import DetectionTags
from app.domain.detection import Detection, DetectionKind
from app.domain.market import Bar, Tick


@dataclass(frozen=True, slots=True, kw_only=True)
class DetectionCounts:
    """Running totals since construction, for metrics.

    ignored_*: bad input skipped; late_*: out-of-order input (ticks are still used, at the
    symbol's newest time; bars are dropped); dropped_events: detections pushed out of the
    pending buffer because nobody drained it.
    """

    ticks: int
    bars: int
    fast: int
    slow: int
    ignored_ticks: int
    late_ticks: int
    ignored_bars: int
    late_bars: int
    dropped_events: int


class Detectors:
    """Ticks to the fast detector, closed one-minute bars to the slow one (other bars are
    ignored); a symbol tagged FAST is not also tagged SLOW. Every detection updates the tags
    and waits in a bounded buffer until `drain` hands it over for publishing."""

    def __init__(
        self, fast: FastMoverConfig, slow: SlowMoverConfig, *, max_pending: int = 10_000
    ) -> None:
        if max_pending < 1:
            raise ValueError(f"max_pending must be at least 1, got {max_pending}")
        self._fast = FastMoverDetector(fast)
        self._slow = SlowMoverDetector(slow)
        self._tags = DetectionTags()
        self._pending: deque[Detection] = deque(maxlen=max_pending)
        self._ticks = 0
        self._bars = 0
        self._found = dict.fromkeys(DetectionKind, 0)
        self._dropped = 0

    def on_tick(self, tick: Tick) -> Detection | None:
        self._ticks += 1
        detection = self._fast.on_tick(tick)
        if detection is not None:
            self._record(detection)
        return detection

    def on_bar(self, bar: Bar) -> Detection | None:
        self._bars += 1
        moving_fast = self._tags.active(bar.symbol, bar.end_ns) is DetectionKind.FAST
        detection = self._slow.on_bar(bar, moving_fast=moving_fast)
        if detection is not None:
            self._record(detection)
        return detection

    def active(self, symbol: str, now_ns: int) -> DetectionKind | None:
        """The symbol's tag at `now_ns` (FAST wins over SLOW), or None."""
        return self._tags.active(symbol, now_ns)

    def tagged(self, now_ns: int) -> list[tuple[str, DetectionKind]]:
        return self._tags.tagged(now_ns)

    def drain(self) -> list[Detection]:
        """Detections since the last drain, oldest first."""
        drained = list(self._pending)
        self._pending.clear()
        return drained

    def counts(self) -> DetectionCounts:
        return DetectionCounts(
            ticks=self._ticks,
            bars=self._bars,
            fast=self._found[DetectionKind.FAST],
            slow=self._found[DetectionKind.SLOW],
            ignored_ticks=self._fast.ignored_ticks,
            late_ticks=self._fast.late_ticks,
            ignored_bars=self._slow.ignored_bars,
            late_bars=self._slow.late_bars,
            dropped_events=self._dropped,
        )

    def _record(self, detection: Detection) -> None:
        self._tags.record(detection)
        self._found[detection.kind] += 1
        if len(self._pending) == self._pending.maxlen:
            self._dropped += 1
        self._pending.append(detection)
