"""A breakout from a tight consolidation, long only, regular session."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.domain.detection import ANY_SYMBOL
from app.domain.market import Bar
from app.domain.position import Lot
from app.domain.signal import Signal
from app.exits.config import ExitConfig, Target
from app.indicators import ATR, SMA, Highest, IndicatorSet, Lowest, Ref
from app.strategies.entry import long_entry, may_enter, sizing_stop, unit
from app.strategies.param_checks import require_count, require_positive


@dataclass(frozen=True, slots=True)
class ConsolidationBreakoutParams:
    lookback: int = 10
    max_range_atr: float = 2.0
    max_range_pct: float = 3.0
    atr_period: int = 14
    volume_mult: float = 2.0
    stop_buffer_pct: float = 0.2
    exit: ExitConfig = field(
        default_factory=lambda: ExitConfig(
            stop_pct=3.0,
            trailing_pct=2.5,
            targets=(Target(4.0, 0.5), Target(8.0, 1.0)),
            max_hold_s=1800,
        )
    )

    def __post_init__(self) -> None:
        require_count("lookback", self.lookback, minimum=2)
        require_count("atr_period", self.atr_period)
        require_positive("max_range_atr", self.max_range_atr)
        require_positive("max_range_pct", self.max_range_pct)
        require_positive("volume_mult", self.volume_mult)
        require_positive("stop_buffer_pct", self.stop_buffer_pct)


class _Box:
    """The consolidation as of the previous bar: the indicator set already includes the
    current bar, so the box it breaks out of is what the set said one bar ago."""

    __slots__ = ("atr", "high", "low", "volume")

    def __init__(self, *, high: float, low: float, volume: float, atr: float) -> None:
        self.high, self.low, self.volume, self.atr = high, low, volume, atr


class ConsolidationBreakout:
    """The previous `lookback` bars traded in a box no wider than `max_range_atr` ATRs and
    `max_range_pct` percent of its high; enter when a green bar closes above the box on volume
    at least `volume_mult` times the box's average. Stop under the box."""

    interval_s = 60
    accepts = ANY_SYMBOL

    def __init__(
        self,
        params: ConsolidationBreakoutParams | None = None,
        *,
        name: str = "consolidation_breakout",
        priority: int = 20,
    ) -> None:
        self.params = p = params or ConsolidationBreakoutParams()
        self.name = name
        self.priority = priority
        self.exit = p.exit
        self._high = Highest(p.lookback, "high")
        self._low = Lowest(p.lookback, "low")
        self._volume = SMA(p.lookback, "volume")
        self._atr = ATR(p.atr_period)
        self._refs: tuple[Ref, ...] = (self._high, self._low, self._volume, self._atr)
        self._boxes: dict[str, _Box] = {}

    @property
    def indicators(self) -> tuple[Ref, ...]:
        return self._refs

    def on_bar(self, bar: Bar, ind: IndicatorSet, lots: Sequence[Lot]) -> Signal | None:
        if bar.interval_s != self.interval_s:
            return None
        box = self._boxes.get(bar.symbol)
        self._boxes[bar.symbol] = _Box(
            high=ind.value(self._high),
            low=ind.value(self._low),
            volume=ind.value(self._volume),
            atr=ind.value(self._atr),
        )
        if box is None or any(math.isnan(x) for x in (box.high, box.low, box.volume, box.atr)):
            return None
        p = self.params
        width = box.high - box.low
        width_pct = 100 * width / box.high
        if (
            width > p.max_range_atr * box.atr
            or width_pct > p.max_range_pct
            or bar.close <= box.high
            or bar.close <= bar.open
            or bar.volume < p.volume_mult * box.volume
            or not may_enter(bar, lots)
        ):
            return None
        tightness = width / (p.max_range_atr * box.atr) if box.atr > 0 else 0.0
        surge = bar.volume / (2 * p.volume_mult * max(1.0, box.volume))
        return long_entry(
            strategy=self.name,
            priority=self.priority,
            bar=bar,
            stop=sizing_stop(bar.close, self.exit, box.low * (1 - p.stop_buffer_pct / 100)),
            confidence=(unit(1 - tightness) + unit(surge)) / 2,
            reason=(
                f"{p.lookback}-bar box {box.low:.4f}-{box.high:.4f} ({width_pct:.2f}% <= "
                f"{p.max_range_pct:g}%, {width:.4f} <= {p.max_range_atr:g} x atr "
                f"{box.atr:.4f}), green close {bar.close:.4f} above it, volume {bar.volume} >= "
                f"{p.volume_mult:g} x {box.volume:.0f}"
            ),
            ind=ind,
            levels={"box_high": box.high, "box_low": box.low, "box_avg_volume": box.volume},
        )
