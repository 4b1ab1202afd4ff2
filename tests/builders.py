"""Builders for domain objects in tests: sensible defaults, override what the test is about."""

from __future__ import annotations

from decimal import Decimal

from app.domain.execution import Fill
from app.domain.market import Bar, Session
from app.domain.order import Order, OrderType
from app.domain.signal import Side, Signal, SignalKind

# 2026-11-20 is a Friday; 14:30 UTC is 09:30 New York (EST).
OPEN_NS = 1_795_185_000_000_000_000
SECOND = 1_000_000_000
MINUTE = 60 * SECOND


def order(
    coid: str = "o-1",
    *,
    qty: str = "100",
    side: Side = Side.BUY,
    symbol: str = "ABC",
    strategy: str = "s",
    closes: str | None = None,
) -> Order:
    return Order(
        client_order_id=coid,
        strategy=strategy,
        symbol=symbol,
        side=side,
        qty=Decimal(qty),
        order_type=OrderType.MARKET,
        created_ns=OPEN_NS,
        signal_key=f"key-{coid}",
        closes=closes,
    )


def fill(
    exec_id: str,
    *,
    coid: str = "o-1",
    qty: str = "100",
    price: str = "10.00",
    side: Side = Side.BUY,
    symbol: str = "ABC",
    fee: str = "0",
    ts_ns: int = OPEN_NS,
) -> Fill:
    return Fill(
        execution_id=exec_id,
        client_order_id=coid,
        symbol=symbol,
        side=side,
        qty=Decimal(qty),
        price=Decimal(price),
        ts_ns=ts_ns,
        fee=Decimal(fee),
    )


def bar(
    *,
    symbol: str = "ABC",
    ts_ns: int = OPEN_NS,
    interval_s: int = 60,
    o: float = 10.0,
    h: float = 10.1,
    low: float = 9.9,
    c: float = 10.0,
    volume: int = 1000,
    session: Session = Session.REGULAR,
) -> Bar:
    return Bar(
        symbol=symbol,
        ts_ns=ts_ns,
        interval_s=interval_s,
        open=o,
        high=h,
        low=low,
        close=c,
        volume=volume,
        trades=10,
        vwap=(h + low + c) / 3,
        session=session,
    )


def entry_signal(
    *, symbol: str = "ABC", price: float = 10.0, stop: float | None = 9.7, key: str = "k1"
) -> Signal:
    return Signal(
        strategy="s",
        symbol=symbol,
        side=Side.BUY,
        kind=SignalKind.ENTRY,
        ts_ns=OPEN_NS,
        price=price,
        dedup_key=key,
        stop_price=stop,
    )
