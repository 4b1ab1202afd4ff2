"""Fast movers: a large move within a short rolling window, confirmed by volume, on every tick.

A symbol keeps its windows in one `MoveWindows` (app.detection.window): the shares traded in
each window's last `seconds` seconds, and its low and high when asked. A print fires a window
when

* the move to it from the window's far extreme reaches the window's `move_pct`, up or down
  (`Detection.move_pct` is signed), and
* the window's volume is at least `volume_mult` times the baseline for a window that long: the
  symbol's EWMA of per-minute volume (empty minutes count as 0, up to `max_idle_minutes` of
  them) times `seconds / 60`, trusted only after `min_baseline_minutes` closed minutes; the
  minute in progress is not part of the baseline it is compared with, and
* that window has not fired for the symbol within `cooldown_s`, and the price is at least
  `min_price`.

Several windows may fire on one print; they all start their cooldown, and the one that cleared
its threshold by the widest margin is returned, so one print yields at most one event. Each
detection tags the symbol FAST until `ts_ns + ttl_s`.

Time only moves forward per symbol: a print older than the symbol's newest counts as late and is
taken as happening at the newest time (the print is real; its timestamp lags), so out-of-order
and duplicate timestamps never break the windows. Prints with a non-finite or non-positive price
or a negative size are counted as ignored and change nothing. The edge validation quarantines
these before they get here; this is the last line.
"""

from __future__ import annotations

import math

from app.detection.baseline import SeededEwma
from app.detection.config import FastMoverConfig
from app.detection.window import MoveWindows
from app.domain.detection import Detection, DetectionKind
from app.domain.market import Tick

_NS = 1_000_000_000
_MINUTE_NS = 60 * _NS
_NEVER = -(2**63)


class _Tape:
    """One symbol's state: its newest time, the minute being counted, baseline, windows."""

    __slots__ = (
        "baseline",
        "emitted_ns",
        "minute",
        "minute_volume",
        "ts_ns",
        "until_ns",
        "windows",
    )

    def __init__(self, config: FastMoverConfig, ts_ns: int) -> None:
        self.ts_ns = ts_ns
        self.minute = ts_ns // _MINUTE_NS
        self.minute_volume = 0
        self.baseline = SeededEwma(span=config.baseline_minutes, seed=config.min_baseline_minutes)
        self.windows = MoveWindows([w.seconds for w in config.windows])
        self.emitted_ns = [_NEVER] * len(config.windows)
        self.until_ns = _NEVER


class FastMoverDetector:
    """Feed every tick in arrival order; O(1) amortized work and bounded memory per symbol."""

    def __init__(self, config: FastMoverConfig) -> None:
        self._config = config
        self._thresholds = tuple(w.move_pct for w in config.windows)
        self._minutes_per_window = tuple(w.seconds / 60.0 for w in config.windows)
        self._cooldown_ns = config.cooldown_s * _NS
        self._ttl_ns = config.ttl_s * _NS
        self._tapes: dict[str, _Tape] = {}
        self.late_ticks = 0
        self.ignored_ticks = 0

    def on_tick(self, tick: Tick) -> Detection | None:
        price, size = tick.price, tick.size
        if not (0.0 < price < math.inf) or size < 0:
            self.ignored_ticks += 1
            return None
        tape = self._tapes.get(tick.symbol)
        if tape is None:
            tape = self._tapes[tick.symbol] = _Tape(self._config, tick.ts_ns)
        ts_ns = tick.ts_ns
        if ts_ns < tape.ts_ns:
            self.late_ticks += 1
            ts_ns = tape.ts_ns
        tape.ts_ns = ts_ns
        minute = ts_ns // _MINUTE_NS
        if minute > tape.minute:
            self._close_minutes(tape, minute)
        tape.minute_volume += size

        tape.windows.push(ts_ns // _NS, price, size)
        baseline = tape.baseline
        if not baseline.ready or baseline.value <= 0.0 or price < self._config.min_price:
            return None
        return self._fire(tape, tick.symbol, ts_ns, price, baseline.value)

    def tag(self, symbol: str, now_ns: int) -> DetectionKind | None:
        """FAST while the symbol's newest fast detection is in force, else None."""
        tape = self._tapes.get(symbol)
        return DetectionKind.FAST if tape is not None and now_ns < tape.until_ns else None

    def samples(self, symbol: str) -> int:
        """Per-second samples the symbol holds across its windows (bounded by the windows)."""
        tape = self._tapes.get(symbol)
        return len(tape.windows) if tape is not None else 0

    def _close_minutes(self, tape: _Tape, minute: int) -> None:
        """The minute counted so far, and any silent ones since, join the baseline."""
        tape.baseline.add(tape.minute_volume)
        idle = min(minute - tape.minute - 1, self._config.max_idle_minutes)
        tape.baseline.add_zeros(idle)
        tape.minute = minute
        tape.minute_volume = 0

    def _fire(
        self, tape: _Tape, symbol: str, ts_ns: int, price: float, per_minute: float
    ) -> Detection | None:
        best = -1
        best_margin = 0.0
        best_move = best_ratio = 0.0
        emitted = tape.emitted_ns
        windows = tape.windows
        for i, volume in enumerate(windows.volumes):
            ratio = volume / (per_minute * self._minutes_per_window[i])
            if ratio < self._config.volume_mult or ts_ns - emitted[i] < self._cooldown_ns:
                continue  # tested first: most prints fail it, and it is cheaper than the move
            move = windows.move_pct(i, price)
            threshold = self._thresholds[i]
            if abs(move) < threshold:
                continue
            emitted[i] = ts_ns
            margin = abs(move) / threshold
            if margin > best_margin:
                best, best_margin, best_move, best_ratio = i, margin, move, ratio
        if best < 0:
            return None
        seconds = windows.seconds[best]
        tape.until_ns = ts_ns + self._ttl_ns
        direction = "up" if best_move > 0 else "down"
        return Detection(
            symbol=symbol,
            kind=DetectionKind.FAST,
            ts_ns=ts_ns,
            until_ns=tape.until_ns,
            window_s=seconds,
            move_pct=best_move,
            volume_ratio=best_ratio,
            reason=f"{direction} {abs(best_move):.1f}% in {seconds}s on {best_ratio:.1f}x volume",
        )
