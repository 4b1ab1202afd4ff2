"""Volume-confirmed N-bar high breakout, long only, regular session."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.domain.ids import signal_dedup_key
from app.domain.market import Bar, Session
from app.domain.position import Lot
from app.domain.signal import Side, Signal, SignalKind
from app.exits.config import ExitConfig, Target


@dataclass(frozen=True, slots=True)
class BreakoutParams:
    lookback: int = 20
    volume_mult: float = 2.0
    min_price: float = 1.0
    max_price: float = 50.0
    min_bars_into_session: int = 5
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


class _Window:
    __slots__ = ("bars_today", "day_ns", "highs", "volumes")

    def __init__(self, lookback: int) -> None:
        self.highs: deque[float] = deque(maxlen=lookback)
        self.volumes: deque[int] = deque(maxlen=lookback)
        self.bars_today = 0
        self.day_ns = 0


_DAY_NS = 86_400_000_000_000


class Breakout:
    """Enter when a bar closes above the highest high of the previous `lookback` bars on volume
    at least `volume_mult` times their average, with the bar closing up."""

    name = "breakout"
    priority = 10
    interval_s = 60

    def __init__(self, params: BreakoutParams | None = None) -> None:
        self.params = params or BreakoutParams()
        self.exit = self.params.exit
        self._windows: dict[str, _Window] = {}

    def on_bar(self, bar: Bar, lots: Sequence[Lot]) -> Signal | None:
        if bar.interval_s != self.interval_s or bar.session is not Session.REGULAR:
            return None
        p = self.params
        window = self._windows.get(bar.symbol)
        if window is None:
            window = self._windows[bar.symbol] = _Window(p.lookback)
        day = bar.ts_ns // _DAY_NS
        if day != window.day_ns:
            window.day_ns, window.bars_today = day, 0
        window.bars_today += 1
        signal = None
        if (
            not lots
            and len(window.highs) == p.lookback
            and window.bars_today > p.min_bars_into_session
            and p.min_price <= bar.close <= p.max_price
            and bar.close > bar.open
            and bar.close > max(window.highs)
            and bar.volume >= p.volume_mult * (sum(window.volumes) / p.lookback)
        ):
            signal = Signal(
                strategy=self.name,
                symbol=bar.symbol,
                side=Side.BUY,
                kind=SignalKind.ENTRY,
                ts_ns=bar.end_ns,
                price=bar.close,
                dedup_key=signal_dedup_key(
                    strategy=self.name, symbol=bar.symbol, side="buy", bar_ts_ns=bar.ts_ns
                ),
                confidence=min(
                    1.0, bar.volume / (p.volume_mult * 2 * max(1.0, _mean(window.volumes)))
                ),
                priority=self.priority,
                stop_price=p.exit.stop_price(bar.close, long=True),
                reason=f"close {bar.close:.4f} > {p.lookback}-bar high {max(window.highs):.4f}",
                indicators={
                    "high_n": max(window.highs),
                    "avg_volume_n": _mean(window.volumes),
                    "volume": float(bar.volume),
                },
            )
        window.highs.append(bar.high)
        window.volumes.append(bar.volume)
        return signal


def _mean(values: deque[int]) -> float:
    return sum(values) / len(values) if values else 0.0
