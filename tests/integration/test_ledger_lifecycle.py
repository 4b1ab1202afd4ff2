"""One trade's life in the PostgreSQL ledger, then a restart that must see exactly the same book."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.decision import Decision
from app.domain.execution import ExecutionReport, Fill, ReportKind
from app.domain.ids import client_order_id_for, signal_dedup_key
from app.domain.order import Order, OrderStatus, OrderType, TimeInForce
from app.domain.position import Lot, Position
from app.domain.signal import Side, Signal, SignalKind
from app.persistence.ledger import SqlLedger
from app.persistence.migrate import upgrade
from app.ports.ledger import Ledger

pytestmark = pytest.mark.postgres

BAR_NS = 1_700_000_000_000_000_000
STRATEGY, SYMBOL = "breakout", "ABCD"


def signal_and_order(
    *, side: Side, kind: SignalKind, bar_ns: int, qty: str, closes: str | None = None
) -> tuple[Signal, Order]:
    key = signal_dedup_key(strategy=STRATEGY, symbol=SYMBOL, side=side, bar_ts_ns=bar_ns)
    signal = Signal(
        strategy=STRATEGY,
        symbol=SYMBOL,
        side=side,
        kind=kind,
        ts_ns=bar_ns,
        price=10.04,
        dedup_key=key,
        stop_price=9.50 if kind is SignalKind.ENTRY else None,
        closes=closes,
        indicators={"rvol": 4.2},
    )
    order = Order(
        client_order_id=client_order_id_for(key),
        strategy=STRATEGY,
        symbol=SYMBOL,
        side=side,
        qty=Decimal(qty),
        order_type=OrderType.LIMIT if kind is SignalKind.ENTRY else OrderType.MARKET,
        created_ns=bar_ns + 1_000,
        signal_key=key,
        limit_price=Decimal("10.05") if kind is SignalKind.ENTRY else None,
        closes=closes,
        expires_ns=bar_ns + 60_000_000_000,
        updated_ns=bar_ns + 1_000,
    )
    return signal, order


async def decide_and_send(ledger: Ledger, signal: Signal, order: Order) -> None:
    """Intent committed first, then the venue's acknowledgements, each persisted."""
    decision = Decision(
        approved=True,
        reason="approved",
        client_order_id=order.client_order_id,
        qty=order.qty,
        checks={"exposure": "ok"},
    )
    assert await ledger.record_decision(signal, decision, order)
    assert not await ledger.record_decision(signal, decision, order)
    order.transition(OrderStatus.SUBMITTED, now_ns=order.created_ns + 1_000)
    await ledger.update_order(order)
    order.transition(OrderStatus.ACCEPTED, now_ns=order.created_ns + 2_000)
    order.broker_order_id = f"venue-{order.client_order_id[-6:]}"
    await ledger.update_order(order)


def venue_fill(order: Order, execution_id: str, *, qty: str, price: str, fee: str) -> Fill:
    report = ExecutionReport(
        kind=ReportKind.FILL,
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        ts_ns=order.updated_ns + 1_000_000,
        broker_order_id=order.broker_order_id or "",
        execution_id=execution_id,
        last_qty=Decimal(qty),
        last_price=Decimal(price),
        fee=Decimal(fee),
    )
    return Fill.from_report(report)


async def test_entry_partial_fills_exit_and_restart(postgres_url: str) -> None:
    await upgrade(postgres_url)
    ledger = SqlLedger(postgres_url)
    await ledger.start()
    try:
        entry_signal, entry = signal_and_order(
            side=Side.BUY, kind=SignalKind.ENTRY, bar_ns=BAR_NS, qty="100"
        )
        await decide_and_send(ledger, entry_signal, entry)

        lot = Lot(entry.client_order_id, STRATEGY, SYMBOL, Side.BUY, opened_ns=entry.created_ns)
        position = Position(STRATEGY, SYMBOL)
        for execution_id, qty, price, fee in [
            ("E1", "60", "10.00", "0.30"),
            ("E2", "40", "10.05", "0.20"),
        ]:
            fill = venue_fill(entry, execution_id, qty=qty, price=price, fee=fee)
            entry.apply_fill(fill.qty, fill.price, now_ns=fill.ts_ns)
            lot.add_entry_fill(fill)
            position = Position(
                STRATEGY, SYMBOL, lot.signed_qty, lot.avg_price, position.realized_pnl - fill.fee
            )
            assert await ledger.book_fill(fill, order=entry, lot=lot, position=position, trade=None)
            assert await ledger.get_order(entry.client_order_id) == entry
        assert entry.status is OrderStatus.FILLED
        assert (lot.avg_price, position.realized_pnl) == (Decimal("10.02"), Decimal("-0.50"))

        exit_signal, exit_order = signal_and_order(
            side=Side.SELL,
            kind=SignalKind.EXIT,
            bar_ns=BAR_NS + 60_000_000_000,
            qty="70",
            closes=entry.client_order_id,
        )
        await decide_and_send(ledger, exit_signal, exit_order)
        exit_fill = venue_fill(exit_order, "X1", qty="70", price="11.25", fee="0.35")
        exit_order.apply_fill(exit_fill.qty, exit_fill.price, now_ns=exit_fill.ts_ns)
        trade = lot.close_with(exit_fill, exit_order_id=exit_order.client_order_id)
        position = Position(
            STRATEGY,
            SYMBOL,
            lot.signed_qty,
            lot.avg_price,
            position.realized_pnl + trade.realized_pnl,
        )
        assert await ledger.book_fill(
            exit_fill, order=exit_order, lot=lot, position=position, trade=trade
        )
        assert not await ledger.book_fill(
            exit_fill, order=exit_order, lot=lot, position=position, trade=trade
        )
        assert trade.realized_pnl == Decimal("85.75")  # (11.25 - 10.02) * 70 - 0.35
        assert position == Position(
            STRATEGY,
            SYMBOL,
            qty=Decimal("30"),
            avg_cost=Decimal("10.02"),
            realized_pnl=Decimal("85.25"),
        )

        rest_signal, resting = signal_and_order(
            side=Side.SELL,
            kind=SignalKind.EXIT,
            bar_ns=BAR_NS + 120_000_000_000,
            qty="30",
            closes=entry.client_order_id,
        )
        resting.order_type, resting.limit_price = OrderType.LIMIT, Decimal("12.00")
        resting.tif = TimeInForce.GTC
        await decide_and_send(ledger, rest_signal, resting)

        assert await ledger.open_orders() == [resting]
        assert await ledger.open_lots() == [lot]
        assert await ledger.positions() == [position]
        assert await ledger.trades(10) == [trade]
        assert ((await ledger.counts()).fills, (await ledger.counts()).signals) == (3, 3)
        before = await book(ledger)
    finally:
        await ledger.close()

    restarted = SqlLedger(postgres_url)
    await restarted.start()
    try:
        assert repr(await book(restarted)) == repr(before)
    finally:
        await restarted.close()


async def book(ledger: Ledger) -> tuple[object, ...]:
    return (
        await ledger.open_orders(),
        await ledger.open_lots(),
        await ledger.positions(),
        await ledger.trades(10),
        await ledger.recent_orders(10),
        (await ledger.counts()).fills,
        (await ledger.counts()).signals,
    )
