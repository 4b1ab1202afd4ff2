"""SimBroker end to end: the async Broker port over a SimVenue, driven by a manual clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from app.brokers.sim.broker import SimBroker
from app.domain.execution import ExecutionReport, ReportKind
from app.domain.market import TickBatch
from app.domain.order import OrderStatus
from app.domain.signal import Side
from app.ports.broker import Broker, BrokerAccount, BrokerPosition, OrderRejected
from tests.unit.brokers.sim_builders import make_order, make_tick, make_venue

LATENCY_NS = 500
WAIT_S = 2.0


class ManualClock:
    def __init__(self, now_ns: int = 0) -> None:
        self.now = now_ns

    def now_ns(self) -> int:
        return self.now


async def next_reports(
    reports: AsyncIterator[ExecutionReport], count: int = 1
) -> list[ExecutionReport]:
    """The next `count` reports, failing the test if they do not come within WAIT_S."""
    async with asyncio.timeout(WAIT_S):
        return [await anext(reports) for _ in range(count)]


def _make_broker(clock: ManualClock) -> SimBroker:
    return SimBroker(make_venue(latency_ns=LATENCY_NS), clock)


async def test_submit_feed_and_read_reports_end_to_end() -> None:
    clock = ManualClock(1_000)
    sim = _make_broker(clock)
    broker: Broker = sim
    reports = broker.reports()
    await sim.on_batch(TickBatch(ticks=[make_tick(1_000, 10.0)]))
    await broker.submit(make_order("o-1", qty="100"))
    clock.now = 1_000 + LATENCY_NS
    await sim.on_batch(TickBatch(ticks=[make_tick(clock.now, 10.0)]))

    accepted, fill = await next_reports(reports, 2)
    assert (accepted.kind, fill.kind) == (ReportKind.ACCEPTED, ReportKind.FILL)
    assert (fill.last_qty, fill.last_price, fill.execution_id) == (
        Decimal("100"),
        Decimal("10.00"),
        "sim-exec-t-000000000002",
    )
    order = await broker.order_by_client_id("o-1")
    assert order is not None
    assert order.status is OrderStatus.FILLED
    assert await broker.positions() == [
        BrokerPosition(symbol="ABC", qty=Decimal("100"), avg_price=Decimal("10.00"))
    ]
    assert await broker.account() == BrokerAccount(
        cash=Decimal("99000.00"), equity=Decimal("100000.00"), buying_power=Decimal("99000.00")
    )
    assert await broker.order_by_client_id("missing") is None


async def test_a_waiting_reader_wakes_when_reports_arrive() -> None:
    clock = ManualClock(1_000)
    broker = _make_broker(clock)
    await broker.on_batch(TickBatch(ticks=[make_tick(1_000, 10.0)]))
    await broker.submit(make_order(limit="9.00"))
    reader = asyncio.create_task(next_reports(broker.reports()))
    clock.now = 1_000 + LATENCY_NS
    await broker.tick()
    (accepted,) = await reader
    assert (accepted.kind, accepted.ts_ns) == (ReportKind.ACCEPTED, 1_000 + LATENCY_NS)


async def test_cancel_and_replace_flow_through_the_adapter() -> None:
    clock = ManualClock(1_000)
    broker = _make_broker(clock)
    reports = broker.reports()
    await broker.on_batch(TickBatch(ticks=[make_tick(1_000, 10.0)]))
    await broker.submit(make_order("a", limit="9.00"))
    await broker.submit(make_order("b", side=Side.SELL, limit="11.00"))
    clock.now = 2_000
    await broker.cancel("a")
    await broker.replace("b", new_client_order_id="b2", limit_price=Decimal("10.50"))
    clock.now = 3_000
    await broker.tick()

    kinds = [(r.kind, r.client_order_id) for r in await next_reports(reports, 5)]

    assert kinds == [
        (ReportKind.ACCEPTED, "a"),
        (ReportKind.ACCEPTED, "b"),
        (ReportKind.CANCELED, "a"),
        (ReportKind.REPLACED, "b"),
        (ReportKind.ACCEPTED, "b2"),
    ]


async def test_refusals_raise_order_rejected() -> None:
    clock = ManualClock(1_000)
    broker = _make_broker(clock)
    await broker.on_batch(TickBatch(ticks=[make_tick(1_000, 10.0)]))
    with pytest.raises(OrderRejected, match="insufficient buying power"):
        await broker.submit(make_order(qty="100000"))
    with pytest.raises(OrderRejected, match="unknown"):
        await broker.cancel("missing")


async def test_day_orders_expire_at_the_clock_time() -> None:
    clock = ManualClock(1_000)
    broker = _make_broker(clock)
    reports = broker.reports()
    await broker.on_batch(TickBatch(ticks=[make_tick(1_000, 10.0)]))
    await broker.submit(make_order(limit="9.00"))
    clock.now = 10_000
    await broker.expire_day_orders()
    kinds = [r.kind for r in await next_reports(reports, 2)]
    assert kinds == [ReportKind.ACCEPTED, ReportKind.EXPIRED]


async def test_run_advances_the_venue_with_the_clock_until_cancelled() -> None:
    clock = ManualClock(1_000)
    broker = _make_broker(clock)
    await broker.on_batch(TickBatch(ticks=[make_tick(1_000, 10.0)]))
    await broker.submit(make_order(limit="9.00"))
    runner = asyncio.create_task(broker.run(interval_s=0.001))
    clock.now = 1_000 + LATENCY_NS
    (accepted,) = await next_reports(broker.reports())
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
    assert accepted.kind is ReportKind.ACCEPTED
