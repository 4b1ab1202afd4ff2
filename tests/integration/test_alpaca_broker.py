"""AlpacaBroker against the fake Alpaca venue: every operation, through the real alpaca-py."""

from __future__ import annotations

import asyncio
import dataclasses
from decimal import Decimal

import msgspec
import pytest

from app.brokers.alpaca.broker import AlpacaBroker
from app.domain.execution import ExecutionReport, ReportKind
from app.domain.order import Order, OrderStatus, OrderType, TimeInForce
from app.ports.broker import (
    Broker,
    BrokerAccount,
    BrokerPosition,
    BrokerUnavailable,
    OrderRejected,
)
from tests.builders import OPEN_NS, order
from tests.fakes.alpaca.harness import SECOND, make_broker, next_reports
from tests.fakes.alpaca.manual_clock import ManualClock
from tests.fakes.alpaca.venue import FakeAlpaca
from tests.redis_harness import eventually

PRICE = Decimal("10.00")


def limit(coid: str, *, price: str, qty: str = "10") -> Order:
    return dataclasses.replace(
        order(coid, qty=qty), order_type=OrderType.LIMIT, limit_price=Decimal(price)
    )


def bracketed(entry: Order) -> Order:
    return dataclasses.replace(entry, take_profit=Decimal("11.00"), stop_loss=Decimal("9.50"))


def posted_orders(venue: FakeAlpaca) -> list[dict[str, object]]:
    return [
        msgspec.json.decode(r.body)
        for r in venue.rest.requests
        if (r.method, r.path) == ("POST", "/v2/orders")
    ]


async def test_a_market_order_is_accepted_filled_and_booked(
    venue: FakeAlpaca, broker: AlpacaBroker
) -> None:
    port: Broker = broker
    reports = port.reports()
    await port.submit(order("tr-1", qty="10"))

    accepted, fill = await next_reports(reports, 2)
    assert (accepted.kind, fill.kind) == (ReportKind.ACCEPTED, ReportKind.FILL)
    (execution,) = venue.ledger.executions
    assert (fill.execution_id, fill.last_qty, fill.last_price) == (
        execution.execution_id,
        Decimal("10"),
        PRICE,
    )
    seen = await port.order_by_client_id("tr-1")
    assert seen is not None
    assert (seen.status, seen.filled_qty, seen.avg_fill_price) == (
        OrderStatus.FILLED,
        Decimal("10"),
        PRICE,
    )
    assert await port.positions() == [
        BrokerPosition(symbol="ABC", qty=Decimal("10"), avg_price=PRICE)
    ]
    assert await port.account() == BrokerAccount(
        cash=Decimal("99900"), equity=Decimal("100000"), buying_power=Decimal("99900")
    )
    assert (await broker.account_details()).daytrading_buying_power == Decimal("399600")


async def test_an_unknown_client_order_id_is_none(broker: AlpacaBroker) -> None:
    assert await broker.order_by_client_id("never-sent") is None


async def test_a_resting_limit_fills_when_the_price_comes(
    venue: FakeAlpaca, broker: AlpacaBroker
) -> None:
    reports = broker.reports()
    await broker.submit(limit("tr-1", price="9.50"))
    (accepted,) = await next_reports(reports)
    assert accepted.kind is ReportKind.ACCEPTED
    venue.ledger.set_price("ABC", Decimal("9.40"))
    (fill,) = await next_reports(reports)
    assert (fill.kind, fill.last_price) == (ReportKind.FILL, Decimal("9.40"))


async def test_orders_since_a_time_come_page_by_page_oldest_first_legs_after_their_entry(
    venue: FakeAlpaca, clock: ManualClock
) -> None:
    async with make_broker(venue, clock, orders_page_size=2) as broker:
        for n in range(5):
            clock.advance(1.0)
            entry = limit(f"tr-{n}", price="9.00")
            await broker.submit(bracketed(entry) if n % 2 else entry)
        since = OPEN_NS + 2 * SECOND
        listed = await broker.orders(since_ns=since)
        assert await broker.fills(since_ns=OPEN_NS) == []
    assert [o.client_order_id for o in listed] == [
        *("tr-1", "tr-1-tp", "tr-1-sl"),
        "tr-2",
        *("tr-3", "tr-3-tp", "tr-3-sl"),
        "tr-4",
    ]
    assert [o.created_ns - OPEN_NS for o in listed] == [
        n * SECOND for n in (2, 2, 2, 3, 4, 4, 4, 5)
    ]
    pages = [r for r in venue.rest.requests if (r.method, r.path) == ("GET", "/v2/orders")]
    assert len(pages) == 4  # two per page, each page repeating the last of the one before
    assert all(p.param("status") == "all" and p.param("direction") == "asc" for p in pages)


async def test_cancel_ends_an_open_order_and_refuses_an_ended_or_unknown_one(
    venue: FakeAlpaca, broker: AlpacaBroker
) -> None:
    reports = broker.reports()
    await broker.submit(limit("tr-1", price="9.00"))
    await broker.cancel("tr-1")
    accepted, canceled = await next_reports(reports, 2)
    assert (accepted.kind, canceled.kind) == (ReportKind.ACCEPTED, ReportKind.CANCELED)
    with pytest.raises(OrderRejected, match="canceled"):
        await broker.cancel("tr-1")
    with pytest.raises(OrderRejected, match="unknown order"):
        await broker.cancel("never-sent")


async def test_a_cancel_from_another_process_looks_the_broker_id_up(
    venue: FakeAlpaca, broker: AlpacaBroker, clock: ManualClock
) -> None:
    await broker.submit(limit("tr-1", price="9.00"))
    async with make_broker(venue, clock) as other:
        await other.cancel("tr-1")
    assert venue.ledger.order_by_client_id("tr-1").status == "canceled"  # type: ignore[union-attr]


async def test_replace_reprices_atomically_under_a_new_client_order_id(
    venue: FakeAlpaca, broker: AlpacaBroker
) -> None:
    reports = broker.reports()
    await broker.submit(limit("tr-1", price="9.00", qty="10"))
    await broker.replace(
        "tr-1", new_client_order_id="tr-1b", qty=Decimal("12"), limit_price=Decimal("9.20")
    )
    accepted, replaced, new = await next_reports(reports, 3)
    assert (replaced.kind, replaced.client_order_id) == (ReportKind.REPLACED, "tr-1")
    assert (new.kind, new.client_order_id) == (ReportKind.ACCEPTED, "tr-1b")
    old = await broker.order_by_client_id("tr-1")
    successor = await broker.order_by_client_id("tr-1b")
    assert old is not None and successor is not None
    # the event names its successor by client id once the PATCH answer has been read
    assert replaced.reason in ("replaced by tr-1b", f"replaced by {successor.broker_order_id}")
    assert old.status is OrderStatus.REPLACED
    assert (successor.qty, successor.status) == (Decimal("12"), OrderStatus.ACCEPTED)
    assert venue.ledger.order_by_client_id("tr-1b").limit_price == Decimal("9.2")  # type: ignore[union-attr]
    assert accepted.client_order_id == "tr-1"


async def test_a_replace_of_an_ended_order_is_refused(broker: AlpacaBroker) -> None:
    await broker.submit(order("tr-1"))
    with pytest.raises(OrderRejected, match="filled"):
        await broker.replace("tr-1", new_client_order_id="tr-1b", limit_price=Decimal("9"))


async def test_brackets_fractions_and_extended_hours_reach_the_venue_as_alpaca_takes_them(
    venue: FakeAlpaca, broker: AlpacaBroker
) -> None:
    await broker.submit(bracketed(limit("tr-1", price="9.90")))
    await broker.submit(order("tr-2", qty="0.25"))
    await broker.submit(limit("tr-3", price="9.00"), extended_hours=True)
    first, fractional, extended = posted_orders(venue)
    assert first["order_class"] == "bracket"
    assert first["take_profit"] == {"limit_price": 11.0}
    assert first["stop_loss"] == {"stop_price": 9.5}
    assert len(venue.ledger.order_by_client_id("tr-1").legs) == 2  # type: ignore[union-attr]
    assert fractional["qty"] == 0.25
    assert extended["extended_hours"] is True


async def test_extended_hours_from_config_applies_to_limit_day_orders_only(
    venue: FakeAlpaca, clock: ManualClock
) -> None:
    async with make_broker(venue, clock, extended_hours=True) as broker:
        await broker.submit(limit("tr-1", price="9.00"))
        await broker.submit(order("tr-2"))
        gtc = dataclasses.replace(limit("tr-3", price="9.00"), tif=TimeInForce.GTC)
        await broker.submit(gtc)
    assert ["extended_hours" in body for body in posted_orders(venue)] == [True, False, False]


async def test_the_venue_saying_no_is_a_rejection_and_nothing_is_placed(
    venue: FakeAlpaca, broker: AlpacaBroker
) -> None:
    with pytest.raises(OrderRejected, match="insufficient buying power"):
        await broker.submit(order("tr-1", qty="100000"))
    assert venue.ledger.order_by_client_id("tr-1") is None


async def test_the_trade_stream_delivers_reports_in_venue_order_with_partial_fills(
    venue: FakeAlpaca, broker: AlpacaBroker
) -> None:
    venue.ledger.max_fill_qty = Decimal("4")
    reports = broker.reports()
    await broker.submit(order("tr-1", qty="10"))
    received = await next_reports(reports, 4)
    assert [r.kind for r in received] == [ReportKind.ACCEPTED] + [ReportKind.FILL] * 3
    fills = received[1:]
    assert [f.last_qty for f in fills] == [Decimal("4"), Decimal("4"), Decimal("2")]
    assert len({f.execution_id for f in fills}) == 3


async def test_reading_reports_first_starts_the_stream_that_start_then_waits_for(
    venue: FakeAlpaca, clock: ManualClock
) -> None:
    broker = make_broker(venue, clock)
    reports = broker.reports()
    first = asyncio.ensure_future(anext(reports))
    try:
        await eventually(broker.stream.ready.is_set, what="trade_updates listening")
        await broker.start()
        await broker.submit(order("tr-1"))
        accepted: ExecutionReport = await asyncio.wait_for(first, 5.0)
        assert accepted.kind is ReportKind.ACCEPTED
        assert len(venue.trade_stream.connections) == 1
    finally:
        first.cancel()
        await reports.aclose()
        await broker.close()


async def test_wrong_keys_refuse_to_start(venue: FakeAlpaca, clock: ManualClock) -> None:
    broker = make_broker(venue, clock, secret_key="wrong")
    with pytest.raises(BrokerUnavailable, match="401"):
        await broker.start()
