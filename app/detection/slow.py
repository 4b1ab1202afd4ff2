"""Slow movers: a volume regime change with range expansion, before the price has moved much.

Judged on each closed one-minute bar, in O(1) time and memory per symbol. A bar qualifies when,
against the symbol's usual bar (see `SeededEwma`; the baselines do not yet include the bar being
judged),

* its volume is at least `rel_volume` times the usual volume, and
* its high-low range is at least `range_expansion` times the usual range.

`sustain_bars` qualifying bars in a row, with no missing minute between them, fire when the move
from the first one's open to the latest close is still under `max_move_pct` either way (a bigger
move is the fast detector's business), the close is at least `min_price`, the caller does not
say the symbol is already moving fast, and the symbol has not fired within `cooldown_s`. The
event is stamped at the bar's end and tags the symbol SLOW until `ttl_s` later; its window is
the run so far, its volume ratio the run's mean relative volume.

Bars of another interval are not this detector's and are ignored; a bar that does not start
after the symbol's previous one (a duplicate or a straggler) is counted as late and ignored, and
so is a bar whose low is not a positive number (counted as ignored).
"""

from __future__ import annotations

from app.detection.baseline import SeededEwma
from app.detection.config import SlowMoverConfig
from app.domain.detection import Detection, DetectionKind
from app.domain.market import Bar

_NS = 1_000_000_000
_NEVER = -(2**63)
_INTERVAL_S = 60


class _Regime:
    """One symbol's usual bar, the time its next bar should start and the current run."""

    __slots__ = ("emitted_ns", "next_ns", "range", "run", "run_open", "run_rvol", "volume")

    def __init__(self, config: SlowMoverConfig) -> None:
        self.volume = SeededEwma(span=config.baseline_bars, seed=config.baseline_bars)
        self.range = SeededEwma(span=config.baseline_bars, seed=config.baseline_bars)
        self.next_ns = _NEVER
        self.run = 0
        self.run_open = 0.0
        self.run_rvol = 0.0
        self.emitted_ns = _NEVER


class SlowMoverDetector:
    """Feed every closed one-minute bar, in time order per symbol."""

    def __init__(self, config: SlowMoverConfig) -> None:
        self._config = config
        self._cooldown_ns = config.cooldown_s * _NS
        self._ttl_ns = config.ttl_s * _NS
        self._regimes: dict[str, _Regime] = {}
        self.late_bars = 0
        self.ignored_bars = 0

    def on_bar(self, bar: Bar, *, moving_fast: bool = False) -> Detection | None:
        if bar.interval_s != _INTERVAL_S:
            return None
        if not bar.low > 0.0:
            self.ignored_bars += 1
            return None
        regime = self._regimes.get(bar.symbol)
        if regime is None:
            regime = self._regimes[bar.symbol] = _Regime(self._config)
        elif bar.ts_ns < regime.next_ns:
            self.late_bars += 1
            return None
        contiguous = bar.ts_ns == regime.next_ns
        regime.next_ns = bar.end_ns

        cfg = self._config
        usual_volume, usual_range = regime.volume.value, regime.range.value
        bar_range = bar.high - bar.low
        qualifies = (
            regime.volume.ready
            and usual_volume > 0.0
            and usual_range > 0.0
            and bar.volume >= cfg.rel_volume * usual_volume
            and bar_range >= cfg.range_expansion * usual_range
        )
        regime.volume.add(bar.volume)
        regime.range.add(bar_range)
        if not qualifies:
            regime.run = 0
            return None
        if not contiguous or regime.run == 0:
            regime.run, regime.run_open, regime.run_rvol = 0, bar.open, 0.0
        regime.run += 1
        regime.run_rvol += bar.volume / usual_volume
        if regime.run < cfg.sustain_bars:
            return None
        move = (bar.close - regime.run_open) / regime.run_open * 100.0
        if (
            moving_fast
            or abs(move) >= cfg.max_move_pct
            or bar.close < cfg.min_price
            or bar.end_ns - regime.emitted_ns < self._cooldown_ns
        ):
            return None
        regime.emitted_ns = bar.end_ns
        ratio = regime.run_rvol / regime.run
        return Detection(
            symbol=bar.symbol,
            kind=DetectionKind.SLOW,
            ts_ns=bar.end_ns,
            until_ns=bar.end_ns + self._ttl_ns,
            window_s=regime.run * _INTERVAL_S,
            move_pct=move,
            volume_ratio=ratio,
            reason=(
                f"{ratio:.1f}x volume with range expansion for {regime.run} bars, "
                f"price {move:+.1f}%"
            ),
        )
