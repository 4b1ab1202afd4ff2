"""Driving a strategy the way a shard does: its own indicator book, one closed bar at a time."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from app.domain.market import Bar, Session
from app.domain.position import Lot
from app.domain.signal import Side, Signal, SignalKind
from app.indicators import IndicatorBook, IndicatorPlan
from app.strategies.base import Strategy
from tests.builders import MINUTE, OPEN_NS, bar

DAY = 24 * 60 * MINUTE


class Feed:
    def __init__(self, strategy: Strategy) -> None:
        self.strategy = strategy
        self.book = IndicatorBook(IndicatorPlan.of(*strategy.indicators))

    def __call__(self, b: Bar, lots: list[Lot] | None = None) -> Signal | None:
        return self.strategy.on_bar(b, self.book.update(b), lots or [])

    def quiet(self, bars: Iterable[Bar]) -> None:
        """Feed bars that must not produce a signal."""
        for b in bars:
            assert self(b) is None, b

    def all(self, bars: Iterable[Bar]) -> list[Signal]:
        return [s for s in map(self, bars) if s is not None]


def at(
    minute: int,
    *,
    o: float,
    c: float,
    h: float | None = None,
    low: float | None = None,
    volume: int = 1000,
    day: int = 0,
    session: Session | None = None,
    symbol: str = "ABC",
) -> Bar:
    """A one-minute bar starting `minute` minutes after the 09:30 open of OPEN_NS's date plus
    `day` days; the session follows the time unless given; high/low default to the body."""
    if session is None:
        session = Session.PRE if minute < 0 else Session.REGULAR
    return bar(
        symbol=symbol,
        ts_ns=OPEN_NS + day * DAY + minute * MINUTE,
        o=o,
        c=c,
        h=max(o, c) if h is None else h,
        low=min(o, c) if low is None else low,
        volume=volume,
        session=session,
    )


def held(strategy: str) -> list[Lot]:
    return [Lot("e-1", strategy, "ABC", Side.BUY, 0, Decimal(1), Decimal(1), Decimal(10))]


def assert_entry(signal: Signal | None, *, strategy: str, price: float) -> Signal:
    """The common contract of an entry: long, at the close, stop below, bounded confidence,
    a reason and the audit snapshot."""
    assert signal is not None
    assert signal.kind is SignalKind.ENTRY and signal.side is Side.BUY
    assert signal.strategy == strategy
    assert signal.price == price
    assert signal.stop_price is not None and signal.stop_price < price
    assert 0.0 <= signal.confidence <= 1.0
    assert signal.reason
    assert signal.indicators
    assert signal.detection == ""  # the engine stamps it, not the strategy
    return signal
