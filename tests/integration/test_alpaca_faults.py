"""AlpacaBroker under the fake venue's fault knobs (S3, S4, S15): what each failure becomes."""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from app.brokers.alpaca.broker import AlpacaBroker
from app.brokers.alpaca.stream import StreamGap
from app.brokers.alpaca.trade_updates import derived_execution_id
from app.brokers.ratelimit import RateBudget
from app.domain.backoff import FullJitterBackoff
from app.domain.execution import ReportKind
from app.domain.order import OrderStatus
from app.ports.broker import BrokerUnavailable, OrderRejected, TransientBrokerError
from tests.builders import OPEN_NS, order
from tests.fakes.alpaca.harness import SECOND, make_broker, next_reports
from tests.fakes.alpaca.manual_clock import ManualClock
from tests.fakes.alpaca.rest import Fault, FaultKind
from tests.fakes.alpaca.venue import FakeAlpaca
from tests.redis_harness import eventually


def on_submit(kind: FaultKind, **options: Any) -> Fault:
    return Fault(kind, method="POST", path="/v2/orders", **options)


@pytest.fixture
async def broker(venue: FakeAlpaca, clock: ManualClock) -> AsyncIterator[AlpacaBroker]:
    async with make_broker(venue, clock, request_timeout_s=0.3) as started:
        yield started


def orders_at_venue(venue: FakeAlpaca) -> int:
    return sum(1 for o in venue.ledger.orders.values() if not o.is_leg)


# ambiguous submits (S3): unknown, resolved by lookup, never sent twice -----------------


@pytest.mark.parametrize(
    "fault",
    [
        on_submit("status", status=502),
        on_submit("reset"),
        on_submit("delay", delay_s=0.6),
    ],
    ids=["502", "connection-reset", "timeout"],
)
async def test_a_submit_the_venue_took_but_did_not_confirm_is_unknown_then_found(
    venue: FakeAlpaca, broker: AlpacaBroker, fault: Fault
) -> None:
    venue.rest.inject(fault)
    with pytest.raises(TransientBrokerError):
        await broker.submit(order("tr-1"))
    seen = await broker.order_by_client_id("tr-1")
    assert seen is not None
    assert seen.status is OrderStatus.FILLED
    assert orders_at_venue(venue) == 1


async def test_a_submit_that_failed_before_the_venue_took_it_is_not_found(
    venue: FakeAlpaca, broker: AlpacaBroker
) -> None:
    venue.rest.inject(on_submit("status", status=503, after_apply=False))
    with pytest.raises(TransientBrokerError):
        await broker.submit(order("tr-1"))
    assert await broker.order_by_client_id("tr-1") is None


@pytest.mark.parametrize("duplicate_status", [422, 409])
async def test_sending_an_ambiguous_order_again_is_idempotent(
    venue: FakeAlpaca, broker: AlpacaBroker, duplicate_status: int
) -> None:
    venue.ledger.duplicate_status = duplicate_status
    venue.rest.inject(on_submit("status", status=502))
    with pytest.raises(TransientBrokerError):
        await broker.submit(order("tr-1"))
    await broker.submit(order("tr-1"))
    assert orders_at_venue(venue) == 1
    assert venue.rest.count("POST", "/v2/orders") == 2


async def test_a_taken_client_order_id_with_another_order_behind_it_is_a_rejection(
    venue: FakeAlpaca, broker: AlpacaBroker
) -> None:
    await broker.submit(order("tr-1", qty="10"))
    with pytest.raises(OrderRejected, match="different order"):
        await broker.submit(order("tr-1", qty="20"))
    assert orders_at_venue(venue) == 1


# rate limits (S15) ---------------------------------------------------------------------


async def test_a_429_with_retry_after_waits_then_succeeds(
    venue: FakeAlpaca, broker: AlpacaBroker, clock: ManualClock
) -> None:
    venue.rest.inject(on_submit("rate_limit", retry_after_s=3.0, reset_in_s=60))
    await broker.submit(order("tr-1"))
    assert clock.now_ns() >= OPEN_NS + 3 * SECOND
    assert venue.rest.count("POST", "/v2/orders") == 2
    assert orders_at_venue(venue) == 1


async def test_a_429_with_only_a_reset_header_waits_for_the_reset(
    venue: FakeAlpaca, broker: AlpacaBroker, clock: ManualClock
) -> None:
    venue.rest.inject(Fault("rate_limit", reset_in_s=5))
    seen = await broker.order_by_client_id("nothing")
    assert seen is None
    assert clock.now_ns() == OPEN_NS + 5 * SECOND


async def test_rate_limited_beyond_the_retries_is_transient(
    venue: FakeAlpaca, clock: ManualClock
) -> None:
    async with make_broker(venue, clock, rate_limit_retries=2) as broker:
        venue.rest.inject(on_submit("rate_limit", reset_in_s=1), times=3)
        with pytest.raises(TransientBrokerError, match="rate limited"):
            await broker.submit(order("tr-1"))
    assert orders_at_venue(venue) == 0


async def test_no_rolling_minute_ever_carries_more_requests_than_the_budget(
    venue: FakeAlpaca, clock: ManualClock
) -> None:
    budget = RateBudget(limit=200, window_ns=60 * SECOND, reserve=20)
    async with make_broker(venue, clock, budget=budget) as broker:
        for n in range(230):
            await broker.order_by_client_id(f"poll-{n}")
        await broker.submit(order("tr-1"))
    stamps = sorted(r.at_ns for r in venue.rest.requests)
    busiest = max(i + 1 - bisect_right(stamps, t - budget.window_ns) for i, t in enumerate(stamps))
    assert busiest <= 200
    assert broker.requests_sent == len(venue.rest.requests)
    polls = sorted(r.at_ns for r in venue.rest.requests if r.method == "GET")
    assert (
        max(i + 1 - bisect_right(polls, t - budget.window_ns) for i, t in enumerate(polls)) <= 180
    )


# an unreachable venue --------------------------------------------------------------------


async def test_connections_refused_again_and_again_mean_the_venue_is_unavailable(
    venue: FakeAlpaca, broker: AlpacaBroker, clock: ManualClock
) -> None:
    await venue.rest.stop()
    skips_before = len(clock.skips)
    with pytest.raises(BrokerUnavailable, match="refused 3"):
        await broker.submit(order("tr-1"))
    backoff = clock.skips[skips_before:]
    assert len(backoff) == 2
    assert 0 <= backoff[0] <= 0.5 and 0 <= backoff[1] <= 1.0


# the trade stream (S4, S16) ----------------------------------------------------------------


async def test_a_fill_before_its_ack_still_yields_both_with_the_venue_execution_id(
    venue: FakeAlpaca, broker: AlpacaBroker
) -> None:
    venue.ledger.fill_before_ack = True
    reports = broker.reports()
    await broker.submit(order("tr-1"))
    fill, accepted = await next_reports(reports, 2)
    assert (fill.kind, accepted.kind) == (ReportKind.FILL, ReportKind.ACCEPTED)
    assert fill.execution_id == venue.ledger.executions[0].execution_id


async def test_replayed_fills_carry_the_same_execution_ids(
    venue: FakeAlpaca, broker: AlpacaBroker
) -> None:
    venue.ledger.max_fill_qty = Decimal("6")
    reports = broker.reports()
    await broker.submit(order("tr-1", qty="10"))
    first = [r for r in await next_reports(reports, 3) if r.kind is ReportKind.FILL]
    venue.trade_stream.replay_fills()
    replayed = await next_reports(reports, 2)
    assert [r.execution_id for r in replayed] == [r.execution_id for r in first]
    assert [r.last_qty for r in replayed] == [Decimal("6"), Decimal("4")]


async def test_fills_without_execution_ids_get_the_same_derived_id_on_replay(
    venue: FakeAlpaca, broker: AlpacaBroker
) -> None:
    venue.ledger.omit_execution_id = True
    reports = broker.reports()
    await broker.submit(order("tr-1", qty="10"))
    _, fill = await next_reports(reports, 2)
    venue.trade_stream.replay_fills()
    (again,) = await next_reports(reports)
    order_id = venue.ledger.order_by_client_id("tr-1").id  # type: ignore[union-attr]
    assert fill.execution_id == again.execution_id == derived_execution_id(order_id, Decimal(10))


async def test_a_dropped_trade_stream_reconnects_with_a_gap_and_a_replay(
    venue: FakeAlpaca, clock: ManualClock
) -> None:
    gaps: list[StreamGap] = []
    async with make_broker(venue, clock, gaps=gaps) as broker:
        reports = broker.reports()
        await broker.submit(order("tr-1"))
        _, fill = await next_reports(reports, 2)
        venue.trade_stream.replay_on_listen = True
        await venue.trade_stream.drop_all()
        (replayed,) = await next_reports(reports)
        assert replayed.execution_id == fill.execution_id
        await broker.submit(order("tr-2"))
        accepted, _ = await next_reports(reports, 2)
        assert accepted.client_order_id == "tr-2"
    assert len(gaps) == 1
    assert gaps[0].stream == "trade_updates"
    assert gaps[0].from_ns <= gaps[0].to_ns
    assert venue.trade_stream.max_concurrent == 1


async def test_a_silent_trade_stream_is_recycled_within_its_timeout(
    venue: FakeAlpaca, clock: ManualClock
) -> None:
    gaps: list[StreamGap] = []
    broker = make_broker(venue, clock, gaps=gaps, manual_sleep=True, trade_silence_timeout_s=20.0)
    async with broker:
        venue.trade_stream.silent = True
        await eventually(lambda: clock.sleeping == 1, what="the watchdog waiting")
        clock.advance(19.5)
        await eventually(lambda: clock.sleeping == 1, what="the watchdog still waiting")
        assert broker.stream.recycled == 0
        clock.advance(1.0)
        await eventually(lambda: broker.stream.recycled == 1, what="the silent socket recycled")
        venue.trade_stream.silent = False
        await eventually(lambda: clock.sleeping == 1, what="the reconnect backoff")
        clock.advance(1.0)
        await eventually(lambda: len(gaps) == 1, what="the reconnect")
    assert gaps[0].reason == "silent"
    assert gaps[0].to_ns - gaps[0].from_ns == int(21.5 * SECOND)
    assert len(venue.trade_stream.connections) == 2
    assert venue.trade_stream.max_concurrent == 1


async def test_a_refusing_trade_stream_is_retried_with_full_jitter_one_socket_at_a_time(
    venue: FakeAlpaca, clock: ManualClock
) -> None:
    gaps: list[StreamGap] = []
    async with make_broker(venue, clock, gaps=gaps, seed=5) as broker:
        reports = broker.reports()
        venue.trade_stream.refuse_next = 3
        skips_before = len(clock.skips)
        await venue.trade_stream.drop_all()
        await eventually(lambda: len(gaps) == 1, what="the reconnect")
        await broker.submit(order("tr-1"))
        accepted, _ = await next_reports(reports, 2)
    assert accepted.client_order_id == "tr-1"
    assert venue.trade_stream.refused == 3
    assert venue.trade_stream.max_concurrent == 1
    reference = FullJitterBackoff(base_s=0.5, cap_s=8.0, random=random.Random(5).random)
    assert clock.skips[skips_before:] == [reference.delay(n) for n in range(4)]
