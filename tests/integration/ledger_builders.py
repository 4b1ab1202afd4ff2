"""Domain objects and booking steps for ledger tests, shared by the contract and integration suites.

Sensible defaults; a test overrides what it is about.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from app.domain.execution import Fill
from app.domain.order import Order, OrderStatus, OrderType
from app.domain.position import Lot, Position, Trade
from app.domain.signal import Side, Signal, SignalKind
from app.ports.ledger import Ledger


def an_order(client_order_id: str = "o-1", **changes: Any) -> Order:
    order = Order(
        client_order_id=client_order_id,
        strategy="breakout",
        symbol="ABCD",
        side=Side.BUY,
        qty=Decimal("100"),
        order_type=OrderType.LIMIT,
        created_ns=1_000,
        signal_key=f"key-{client_order_id}",
        limit_price=Decimal("2.50"),
    )
    return replace(order, **changes)


def a_signal(dedup_key: str = "breakout|ABCD|buy|1000|") -> Signal:
    return Signal(
        strategy="breakout",
        symbol="ABCD",
        side=Side.BUY,
        kind=SignalKind.ENTRY,
        ts_ns=1_000,
        price=2.5,
        dedup_key=dedup_key,
        stop_price=2.4,
        indicators={"rvol": 3.5, "ema9": float("nan")},
    )


def a_fill(order: Order, execution_id: str, qty: str, price: str, *, ts_ns: int = 2_000) -> Fill:
    return Fill(
        execution_id=execution_id,
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        qty=Decimal(qty),
        price=Decimal(price),
        ts_ns=ts_ns,
        fee=Decimal("0.01"),
    )


def accepted(order: Order) -> Order:
    order.transition(OrderStatus.SUBMITTED, now_ns=order.created_ns + 1)
    order.transition(OrderStatus.ACCEPTED, now_ns=order.created_ns + 2)
    order.broker_order_id = f"b-{order.client_order_id}"
    return order


async def book_entry(ledger: Ledger, order: Order, fill: Fill, lot: Lot | None = None) -> Lot:
    """Apply and book an entry fill; returns the lot it built (new if none is given)."""
    lot = lot or Lot(
        entry_order_id=order.client_order_id,
        strategy=order.strategy,
        symbol=order.symbol,
        side=order.side,
        opened_ns=fill.ts_ns,
    )
    order.apply_fill(fill.qty, fill.price, now_ns=fill.ts_ns)
    lot.add_entry_fill(fill)
    position = Position(order.strategy, order.symbol, qty=lot.signed_qty, avg_cost=lot.avg_price)
    assert await ledger.book_fill(fill, order=order, lot=lot, position=position, trade=None)
    return lot


async def snapshot(ledger: Ledger) -> tuple[object, ...]:
    return (
        await ledger.recent_orders(100),
        await ledger.open_lots(),
        await ledger.positions(),
        await ledger.trades(100),
        (await ledger.counts()).fills,
    )


def a_trade(fill: Fill, *, entry_order_id: str) -> Trade:
    return Trade(
        strategy="breakout",
        symbol=fill.symbol,
        side=fill.side.opposite,
        entry_order_id=entry_order_id,
        exit_order_id=fill.client_order_id,
        exit_execution_id=fill.execution_id,
        qty=fill.qty,
        entry_price=Decimal("1"),
        exit_price=fill.price,
        entry_ns=1,
        exit_ns=fill.ts_ns,
        realized_pnl=Decimal("1"),
    )


async def book_exit(ledger: Ledger, lot: Lot, *, exit_id: str, qty: str, price: str) -> Trade:
    """Close part of `lot` with a new exit order filled at once; returns the booked trade."""
    exit_order = accepted(
        an_order(
            exit_id,
            symbol=lot.symbol,
            side=lot.side.opposite,
            qty=Decimal(qty),
            closes=lot.entry_order_id,
            created_ns=3_000 + len(await ledger.recent_orders(100)),
        )
    )
    await ledger.insert_order(exit_order)
    fill = a_fill(exit_order, f"x-{exit_id}", qty, price, ts_ns=exit_order.created_ns + 10)
    exit_order.apply_fill(fill.qty, fill.price, now_ns=fill.ts_ns)
    trade = lot.close_with(fill, exit_order_id=exit_id)
    position = Position(
        lot.strategy,
        lot.symbol,
        qty=lot.signed_qty,
        avg_cost=lot.avg_price,
        realized_pnl=trade.realized_pnl,
    )
    assert await ledger.book_fill(fill, order=exit_order, lot=lot, position=position, trade=trade)
    return trade
