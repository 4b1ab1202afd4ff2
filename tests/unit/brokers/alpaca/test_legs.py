"""Alpaca's nested bracket legs as the port's orders, under the ids the ledger gave them."""

from __future__ import annotations

from decimal import Decimal

from alpaca.trading.models import Order as AlpacaOrder

from app.brokers.alpaca.legs import entry_of, venue_orders
from app.brokers.alpaca.order_ids import OrderIds
from app.domain.order import OrderStatus
from app.domain.signal import Side
from tests.fakes.alpaca.ledger import FakeLedger, FakeOrder
from tests.fakes.alpaca.manual_clock import ManualClock


def bracket_at_venue(ledger: FakeLedger, *, limit: str) -> FakeOrder:
    return ledger.submit(
        {
            "symbol": "ABC",
            "qty": "10",
            "side": "buy",
            "type": "limit",
            "limit_price": limit,
            "time_in_force": "day",
            "client_order_id": "tr-1",
            "order_class": "bracket",
            "take_profit": {"limit_price": "11.00"},
            "stop_loss": {"stop_price": "9.50"},
        }
    )


def as_alpaca(order: FakeOrder, *, nested: bool = True) -> AlpacaOrder:
    return AlpacaOrder(**order.json(nested=nested))


def test_a_leg_id_names_its_entry() -> None:
    assert entry_of("tr-1-tp") == entry_of("tr-1-sl") == "tr-1"
    assert entry_of("tr-1") is None


def test_legs_held_for_an_unfilled_entry_are_at_the_venue_but_not_working() -> None:
    ledger = FakeLedger(ManualClock(0), cash=Decimal("1000"))
    entry = bracket_at_venue(ledger, limit="9.90")
    take_profit, stop_loss = entry.legs
    found = venue_orders(as_alpaca(entry))
    assert [(o.client_order_id, o.broker_order_id, o.status) for o in found] == [
        ("tr-1", entry.id, OrderStatus.ACCEPTED),
        ("tr-1-tp", take_profit.id, OrderStatus.SUBMITTED),
        ("tr-1-sl", stop_loss.id, OrderStatus.SUBMITTED),
    ]
    assert [(o.side, o.qty) for o in found[1:]] == [(Side.SELL, Decimal("10"))] * 2


def test_once_the_entry_filled_both_legs_work_though_alpaca_still_holds_the_stop() -> None:
    ledger = FakeLedger(ManualClock(0), cash=Decimal("1000"))
    ledger.set_price("ABC", Decimal("9.80"))
    entry = bracket_at_venue(ledger, limit="9.90")
    assert [leg.status for leg in entry.legs] == ["new", "held"]
    statuses = [o.status for o in venue_orders(as_alpaca(entry))]
    assert statuses == [OrderStatus.FILLED, OrderStatus.ACCEPTED, OrderStatus.ACCEPTED]


def test_an_entry_read_without_its_legs_or_a_simple_order_is_just_itself() -> None:
    ledger = FakeLedger(ManualClock(0), cash=Decimal("1000"))
    entry = bracket_at_venue(ledger, limit="9.90")
    assert [o.client_order_id for o in venue_orders(as_alpaca(entry, nested=False))] == ["tr-1"]
    (leg,) = venue_orders(as_alpaca(entry.legs[0]))
    assert leg.client_order_id == entry.legs[0].client_order_id


def test_the_id_book_translates_legs_and_knows_what_belongs_to_a_bracket() -> None:
    ledger = FakeLedger(ManualClock(0), cash=Decimal("1000"))
    entry = bracket_at_venue(ledger, limit="9.90")
    ids = OrderIds()
    ids.learn(as_alpaca(entry))
    take_profit, stop_loss = entry.legs
    assert (ids.client_id(take_profit.id), ids.client_id(stop_loss.id)) == ("tr-1-tp", "tr-1-sl")
    assert ids.order_id("tr-1-sl") == stop_loss.id
    assert all(ids.in_bracket(coid) for coid in ("tr-1", "tr-1-tp", "tr-1-sl"))
    ids.remember("tr-2", "a-2")
    assert not ids.in_bracket("tr-2")
