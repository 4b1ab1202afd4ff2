"""AlpacaBroker's bracket orders against the fake Alpaca, through the real alpaca-py: the legs
Alpaca names itself reach the rest of the system only under the ledger's leg ids."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from decimal import Decimal

import msgspec
import pytest

from app.brokers.alpaca.broker import AlpacaBroker
from app.domain.execution import ExecutionReport, ReportKind
from app.domain.order import Order, OrderStatus, OrderType
from app.ports.broker import BrokerOrder, OrderRejected
from tests.builders import OPEN_NS, order
from tests.fakes.alpaca.harness import make_broker, next_reports
from tests.fakes.alpaca.ledger import FakeOrder
from tests.fakes.alpaca.manual_clock import ManualClock
from tests.fakes.alpaca.venue import FakeAlpaca

PRICE = Decimal("10.00")
TP, SL = "tr-1-tp", "tr-1-sl"


def bracket(coid: str = "tr-1", *, limit: str | None = None) -> Order:
    """A 10-share buy with a take-profit at 11.00 and a stop-loss at 9.50; market unless
    `limit` is given."""
    entry = order(coid, qty="10")
    if limit is not None:
        entry = dataclasses.replace(entry, order_type=OrderType.LIMIT, limit_price=Decimal(limit))
    return dataclasses.replace(entry, take_profit=Decimal("11.00"), stop_loss=Decimal("9.50"))


def legs_at_venue(venue: FakeAlpaca, entry_id: str = "tr-1") -> tuple[FakeOrder, FakeOrder]:
    entry = venue.ledger.order_by_client_id(entry_id)
    assert entry is not None
    take_profit, stop_loss = entry.legs
    return take_profit, stop_loss


def events(reports: list[ExecutionReport]) -> list[tuple[ReportKind, str]]:
    return [(report.kind, report.client_order_id) for report in reports]


def requests(venue: FakeAlpaca, method: str, path: str) -> int:
    return sum(1 for r in venue.rest.requests if (r.method, r.path) == (method, path))


async def filled_bracket(broker: AlpacaBroker, reports: AsyncIterator[ExecutionReport]) -> None:
    """A market bracket entry filled at PRICE: its take-profit is working."""
    await broker.submit(bracket())
    assert events(await next_reports(reports, 3)) == [
        (ReportKind.ACCEPTED, "tr-1"),
        (ReportKind.FILL, "tr-1"),
        (ReportKind.ACCEPTED, TP),
    ]


async def looked_up(broker: AlpacaBroker, client_order_id: str) -> BrokerOrder:
    seen = await broker.order_by_client_id(client_order_id)
    assert seen is not None
    return seen


async def test_a_bracket_goes_as_one_order_whose_legs_answer_to_our_ids(
    venue: FakeAlpaca, broker: AlpacaBroker
) -> None:
    await broker.submit(bracket(limit="9.00"))
    (posted,) = [
        msgspec.json.decode(r.body)
        for r in venue.rest.requests
        if (r.method, r.path) == ("POST", "/v2/orders")
    ]
    assert (posted["order_class"], posted["take_profit"], posted["stop_loss"]) == (
        "bracket",
        {"limit_price": 11.0},
        {"stop_price": 9.5},
    )
    take_profit, stop_loss = legs_at_venue(venue)
    assert {take_profit.client_order_id, stop_loss.client_order_id}.isdisjoint({TP, SL})
    leg_json = stop_loss.json()
    assert (leg_json["type"], leg_json["stop_price"], leg_json["limit_price"]) == (
        "stop",
        "9.5",
        None,
    )
    for leg_id, leg in ((TP, take_profit), (SL, stop_loss)):
        seen = await looked_up(broker, leg_id)
        assert (seen.client_order_id, seen.broker_order_id) == (leg_id, leg.id)
        assert (seen.side.value, seen.qty, seen.status) == (
            "sell",
            Decimal("10"),
            OrderStatus.SUBMITTED,  # held until the entry has filled
        )


async def test_a_take_profit_fill_is_reported_on_our_leg_and_cancels_the_stop(
    venue: FakeAlpaca, broker: AlpacaBroker
) -> None:
    reports = broker.reports()
    await filled_bracket(broker, reports)
    venue.ledger.set_price("ABC", Decimal("11.20"))
    fill, canceled = await next_reports(reports, 2)
    assert events([fill, canceled]) == [(ReportKind.FILL, TP), (ReportKind.CANCELED, SL)]
    take_profit, stop_loss = legs_at_venue(venue)
    assert (fill.broker_order_id, fill.last_qty, fill.last_price) == (
        take_profit.id,
        Decimal("10"),
        Decimal("11.20"),
    )
    assert canceled.broker_order_id == stop_loss.id
    assert (await looked_up(broker, TP)).status is OrderStatus.FILLED
    assert (await looked_up(broker, SL)).status is OrderStatus.CANCELED
    assert await broker.positions() == []


async def test_the_stop_triggers_at_its_price_fills_there_and_cancels_the_take_profit(
    venue: FakeAlpaca, broker: AlpacaBroker
) -> None:
    reports = broker.reports()
    await filled_bracket(broker, reports)
    venue.ledger.set_price("ABC", Decimal("9.60"))  # above the stop: nothing happens
    venue.ledger.set_price("ABC", Decimal("9.40"))
    live, fill, canceled = await next_reports(reports, 3)
    assert events([live, fill, canceled]) == [
        (ReportKind.ACCEPTED, SL),
        (ReportKind.FILL, SL),
        (ReportKind.CANCELED, TP),
    ]
    assert (fill.last_qty, fill.last_price) == (Decimal("10"), Decimal("9.40"))
    assert await broker.positions() == []


async def test_cancelling_a_leg_cancels_both_without_a_lookup(
    venue: FakeAlpaca, broker: AlpacaBroker
) -> None:
    reports = broker.reports()
    await filled_bracket(broker, reports)
    await broker.cancel(SL)
    assert events(await next_reports(reports, 2)) == [
        (ReportKind.CANCELED, SL),
        (ReportKind.CANCELED, TP),
    ]
    assert requests(venue, "GET", "/v2/orders:by_client_order_id") == 0
    _, stop_loss = legs_at_venue(venue)
    assert requests(venue, "DELETE", f"/v2/orders/{stop_loss.id}") == 1


async def test_an_entry_cancelled_before_it_filled_takes_its_legs_with_it(
    venue: FakeAlpaca, broker: AlpacaBroker
) -> None:
    reports = broker.reports()
    await broker.submit(bracket(limit="9.00"))
    await broker.cancel("tr-1")
    assert events(await next_reports(reports, 4)) == [
        (ReportKind.ACCEPTED, "tr-1"),
        (ReportKind.CANCELED, "tr-1"),
        (ReportKind.CANCELED, TP),
        (ReportKind.CANCELED, SL),
    ]


async def test_orders_lists_each_leg_under_our_id_after_its_entry(
    venue: FakeAlpaca, broker: AlpacaBroker
) -> None:
    reports = broker.reports()
    await filled_bracket(broker, reports)
    venue.ledger.set_price("ABC", Decimal("11.20"))
    await next_reports(reports, 2)
    listed = await broker.orders(since_ns=OPEN_NS)
    take_profit, stop_loss = legs_at_venue(venue)
    assert [(o.client_order_id, o.broker_order_id, o.status) for o in listed] == [
        ("tr-1", venue.ledger.by_client_id["tr-1"], OrderStatus.FILLED),
        (TP, take_profit.id, OrderStatus.FILLED),
        (SL, stop_loss.id, OrderStatus.CANCELED),
    ]


async def test_a_fresh_broker_translates_leg_updates_after_one_listing(
    venue: FakeAlpaca, broker: AlpacaBroker, clock: ManualClock
) -> None:
    await broker.submit(bracket())
    async with make_broker(venue, clock) as fresh:
        reports = fresh.reports()
        venue.ledger.set_price("ABC", Decimal("11.20"))
        fill, canceled = await next_reports(reports, 2)
        assert events([fill, canceled]) == [(ReportKind.FILL, TP), (ReportKind.CANCELED, SL)]
        assert requests(venue, "GET", "/v2/orders") == 1
        seen = await looked_up(fresh, TP)
        assert (seen.status, seen.avg_fill_price) == (OrderStatus.FILLED, Decimal("11.20"))


async def test_a_fresh_broker_finds_and_cancels_a_leg_by_our_id(
    venue: FakeAlpaca, broker: AlpacaBroker, clock: ManualClock
) -> None:
    await broker.submit(bracket(limit="9.00"))
    take_profit, stop_loss = legs_at_venue(venue)
    async with make_broker(venue, clock) as fresh:
        reports = fresh.reports()
        await fresh.cancel(SL)
        assert events(await next_reports(reports, 2)) == [
            (ReportKind.CANCELED, SL),
            (ReportKind.CANCELED, TP),
        ]
        seen = await looked_up(fresh, TP)
    assert (seen.broker_order_id, seen.status) == (take_profit.id, OrderStatus.CANCELED)
    assert stop_loss.status == "canceled"
    assert requests(venue, "GET", "/v2/orders") == 0  # the lookups went through the entry


async def test_a_bracket_entry_or_leg_is_never_replaced(
    venue: FakeAlpaca, broker: AlpacaBroker, clock: ManualClock
) -> None:
    await broker.submit(bracket(limit="9.00"))
    with pytest.raises(OrderRejected, match="bracket entry"):
        await broker.replace("tr-1", new_client_order_id="tr-1b", limit_price=Decimal("9.10"))
    with pytest.raises(OrderRejected, match="bracket leg"):
        await broker.replace(TP, new_client_order_id="tr-1c", limit_price=Decimal("11.50"))
    async with make_broker(venue, clock) as fresh:
        with pytest.raises(OrderRejected, match="bracket entry"):
            await fresh.replace("tr-1", new_client_order_id="tr-1d", qty=Decimal("12"))
    assert sum(1 for r in venue.rest.requests if r.method == "PATCH") == 0
