"""Volume-confirmed N-bar high breakout, long only, regular session."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.domain.detection import ANY_SYMBOL
from app.domain.ids import signal_dedup_key
from app.domain.market import Bar, Session
from app.domain.position import Lot
from app.domain.signal import Side, Signal, SignalKind
from app.exits.config import ExitConfig, Target
from app.indicators import SMA, Highest, IndicatorSet, MinutesSinceOpen, Ref


@dataclass(frozen=True, slots=True)
class BreakoutParams:
    lookback: int = 20
    volume_mult: float = 2.0
    min_price: float = 1.0
    max_price: float = 50.0
    min_minutes_into_session: float = 5.0
    exit: ExitConfig = field(
        default_factory=lambda: ExitConfig(
            stop_pct=3.0,
            trailing_pct=2.5,
            targets=(Target(4.0, 0.5), Target(8.0, 1.0)),
            max_hold_s=1800,
        )
    )

    def __post_init__(self) -> None:
        if self.lookback < 2:
            raise ValueError(f"lookback must be at least 2, got {self.lookback}")
        if self.volume_mult <= 0:
            raise ValueError(f"volume_mult must be positive, got {self.volume_mult}")


class Breakout:
    """Enter when a bar closes above the highest high of the previous `lookback` bars, on volume
    at least `volume_mult` times their average, closing up.

    The indicator set includes the current bar, so the strategy keeps, per symbol, the previous
    bar's N-bar high and average volume: two floats, the only state it holds.
    """

    interval_s = 60
    accepts = ANY_SYMBOL

    def __init__(
        self, params: BreakoutParams | None = None, *, name: str = "breakout", priority: int = 10
    ) -> None:
        self.params = params or BreakoutParams()
        self.name = name
        self.priority = priority
        self.exit = self.params.exit
        self._high = Highest(self.params.lookback, "high")
        self._volume = SMA(self.params.lookback, "volume")
        self._minutes = MinutesSinceOpen()
        self._previous: dict[str, tuple[float, float]] = {}

    @property
    def indicators(self) -> tuple[Ref, ...]:
        return (self._high, self._volume, self._minutes)

    def on_bar(self, bar: Bar, ind: IndicatorSet, lots: Sequence[Lot]) -> Signal | None:
        if bar.interval_s != self.interval_s:
            return None
        previous = self._previous.get(bar.symbol)
        self._previous[bar.symbol] = (ind.value(self._high), ind.value(self._volume))
        if previous is None or bar.session is not Session.REGULAR or lots:
            return None
        p = self.params
        high_n, volume_n = previous
        if (
            math.isnan(high_n)
            or math.isnan(volume_n)
            or not ind.value(self._minutes) >= p.min_minutes_into_session
            or not p.min_price <= bar.close <= p.max_price
            or bar.close <= bar.open
            or bar.close <= high_n
            or bar.volume < p.volume_mult * volume_n
        ):
            return None
        return Signal(
            strategy=self.name,
            symbol=bar.symbol,
            side=Side.BUY,
            kind=SignalKind.ENTRY,
            ts_ns=bar.end_ns,
            price=bar.close,
            dedup_key=signal_dedup_key(
                strategy=self.name, symbol=bar.symbol, side="buy", bar_ts_ns=bar.ts_ns
            ),
            confidence=min(1.0, bar.volume / (2 * p.volume_mult * max(1.0, volume_n))),
            priority=self.priority,
            stop_price=p.exit.stop_price(bar.close, long=True),
            reason=f"close {bar.close:.4f} > {p.lookback}-bar high {high_n:.4f}",
            indicators={**ind.snapshot(), "high_n_before": high_n, "volume_n_before": volume_n},
        )
