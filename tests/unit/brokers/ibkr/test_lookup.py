"""find_order: the venue's view of one client order id from ib_async's trades and fills."""

from __future__ import annotations

from decimal import Decimal

from ib_async import TradeLogEntry

from app.brokers.ibkr.lookup import find_order
from app.domain.order import OrderStatus
from app.domain.signal import Side
from app.ports.broker import BrokerOrder
from tests.unit.brokers.ibkr.ib_objects import EXEC_TIME, ib_fill, ib_trade


def test_an_order_the_venue_has_not_answered_about_is_not_found() -> None:
    waiting = ib_trade("c-1", status="PendingSubmit", perm_id=0)
    assert find_order("c-1", [waiting], []) is None
    assert find_order("other", [ib_trade("c-1")], []) is None


def test_a_working_order_with_a_partial_fill() -> None:
    trade = ib_trade("c-1", filled=40.0)
    fills = [ib_fill("e-1", "c-1", shares=40.0, price=9.99)]
    assert find_order("c-1", [trade], fills) == BrokerOrder(
        client_order_id="c-1",
        broker_order_id="9001",
        symbol="ABC",
        side=Side.BUY,
        qty=Decimal(100),
        filled_qty=Decimal(40),
        status=OrderStatus.PARTIALLY_FILLED,
        avg_fill_price=Decimal("9.99000000"),
    )


def test_a_completed_order_counts_its_filled_quantity_without_executions() -> None:
    trade = ib_trade("c-1", status="Filled")
    trade.order.filledQuantity = 100.0
    trade.orderStatus.avgFillPrice = 10.5
    found = find_order("c-1", [trade], [])
    assert found is not None
    assert (found.status, found.filled_qty, found.avg_fill_price) == (
        OrderStatus.FILLED,
        Decimal(100),
        Decimal("10.50000000"),
    )


def test_fills_split_between_the_ids_of_an_order_replaced_in_place() -> None:
    trade = ib_trade("c-2", total=150.0, filled=70.0)
    fills = [
        ib_fill("e-1", "c-1", shares=40.0, price=9.0),
        ib_fill("e-2", "c-2", shares=30.0, price=9.2),
    ]
    new = find_order("c-2", [trade], fills)
    old = find_order("c-1", [trade], fills)
    assert new is not None and old is not None
    assert (new.status, new.qty, new.filled_qty, new.avg_fill_price) == (
        OrderStatus.PARTIALLY_FILLED,
        Decimal(110),
        Decimal(30),
        Decimal("9.20000000"),
    )
    assert (old.status, old.qty, old.filled_qty) == (
        OrderStatus.REPLACED,
        Decimal(40),
        Decimal(40),
    )


def test_executions_of_an_order_the_venue_no_longer_lists() -> None:
    found = find_order("c-1", [], [ib_fill("e-1", "c-1", shares=100.0)])
    assert found is not None
    assert (found.status, found.qty, found.filled_qty) == (
        OrderStatus.FILLED,
        Decimal(100),
        Decimal(100),
    )


def test_an_order_working_again_after_a_refused_modify_ends_canceled_not_rejected() -> None:
    trade = ib_trade("c-1", status="Cancelled", errors=(201,))
    refused = find_order("c-1", [trade], [])
    trade.log.append(TradeLogEntry(EXEC_TIME, "Submitted", "", 0))
    trade.orderStatus.status = "Cancelled"
    after_resync = find_order("c-1", [trade], [])
    assert refused is not None and after_resync is not None
    assert (refused.status, after_resync.status) == (OrderStatus.REJECTED, OrderStatus.CANCELED)
