"""AlpacaFeed on the fake market-data stream: data, subscriptions, silence, storms (S14, S16)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest

from app.brokers.alpaca.stream import StreamGap
from app.domain.backoff import FullJitterBackoff
from app.domain.market import Quote, Tick
from app.ports.feed import MarketDataFeed
from tests.builders import OPEN_NS
from tests.fakes.alpaca.harness import SECOND, make_feed, next_batch
from tests.fakes.alpaca.manual_clock import ManualClock
from tests.fakes.alpaca.venue import FakeAlpaca
from tests.redis_harness import eventually

SEED = 11


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(OPEN_NS)


@pytest.fixture
async def venue(clock: ManualClock) -> AsyncIterator[FakeAlpaca]:
    async with FakeAlpaca(clock=clock) as fake:
        yield fake


async def test_trades_and_quotes_arrive_as_tick_batches(
    venue: FakeAlpaca, clock: ManualClock
) -> None:
    feed = make_feed(venue, clock, trades=["ABC"], quotes=["ABC"])
    port: MarketDataFeed = feed
    batches = port.stream()
    try:
        first = asyncio.ensure_future(next_batch(batches))
        await eventually(feed.session.ready.is_set, what="subscribed")
        await venue.data_stream.publish_trade("ABC", price=10.5, size=100, ts_ns=OPEN_NS + 1)
        await venue.data_stream.publish_quote("ABC", bid=10.4, ask=10.6, size=3, ts_ns=OPEN_NS + 2)
        await venue.data_stream.publish_trade("XYZ", price=1.0, size=1, ts_ns=OPEN_NS + 3)
        received = [await first]
        while sum(len(b.ticks) + len(b.quotes) for b in received) < 2:
            received.append(await next_batch(batches))
    finally:
        await feed.close()
    assert [t for b in received for t in b.ticks] == [Tick("ABC", OPEN_NS + 1, 10.5, 100, 1)]
    assert [q for b in received for q in b.quotes] == [Quote("ABC", OPEN_NS + 2, 10.4, 10.6, 3, 3)]
    (connection,) = venue.data_stream.connections
    assert connection.path == "/v2/iex"
    assert connection.subscription_acks == [{"trades": ["ABC"], "quotes": ["ABC"]}]


async def test_close_ends_the_stream(venue: FakeAlpaca, clock: ManualClock) -> None:
    feed = make_feed(venue, clock, trades=["ABC"], quotes=[])
    batches = feed.stream()
    waiting = asyncio.ensure_future(anext(batches, None))
    await eventually(feed.session.ready.is_set, what="subscribed")
    await feed.close()
    assert await asyncio.wait_for(waiting, 2.0) is None
    await eventually(lambda: not venue.data_stream.open_connections(), what="socket closed")


async def test_subscriptions_change_at_runtime_and_survive_a_drop_exactly(
    venue: FakeAlpaca, clock: ManualClock
) -> None:
    gaps: list[StreamGap] = []
    feed = make_feed(venue, clock, trades=["ABC", "XYZ"], quotes=["ABC"], gaps=gaps)
    batches = feed.stream()
    reading = asyncio.ensure_future(next_batch(batches))
    try:
        await eventually(feed.session.ready.is_set, what="subscribed")
        await feed.subscribe(trades=["NEW"])
        await feed.unsubscribe(trades=["XYZ"], quotes=["ABC"])
        want = {"trades": {"ABC", "NEW"}, "quotes": set()}
        await eventually(lambda: feed.subscriptions.acked == want, what="runtime changes acked")
        await venue.data_stream.publish_trade("ABC", price=10.0, size=1, ts_ns=OPEN_NS)
        await reading
        await venue.data_stream.drop_all()
        await eventually(lambda: len(gaps) == 1, what="the reconnect")
    finally:
        await feed.close()
    first, second = venue.data_stream.connections
    assert first.subscription_acks[-1] == {"trades": ["ABC", "NEW"], "quotes": []}
    assert second.subscription_acks == [{"trades": ["ABC", "NEW"], "quotes": []}]
    assert gaps[0].from_ns == OPEN_NS
    assert gaps[0].stream == "market_data"
    assert venue.data_stream.max_concurrent == 1


async def test_a_silent_socket_is_recycled_within_the_timeout_plus_a_second(
    venue: FakeAlpaca, clock: ManualClock
) -> None:
    gaps: list[StreamGap] = []
    feed = make_feed(
        venue, clock, trades=["ABC"], quotes=[], gaps=gaps, manual_sleep=True,
        data_silence_timeout_s=10.0,
    )  # fmt: skip
    batches = feed.stream()
    reading = asyncio.ensure_future(next_batch(batches))
    try:
        await eventually(feed.session.ready.is_set, what="subscribed")
        clock.advance(9.0)
        await venue.data_stream.publish_trade("ABC", price=10.0, size=1, ts_ns=clock.now_ns())
        await reading
        clock.advance(9.5)  # 18.5 s after connecting, 9.5 s after the last trade
        await eventually(lambda: clock.sleeping == 1, what="the watchdog sleeping again")
        assert feed.session.recycled == 0
        venue.data_stream.silent = True
        clock.advance(1.0)  # 10.5 s of silence
        await eventually(lambda: feed.session.recycled == 1, what="the silent socket recycled")
        venue.data_stream.silent = False
        await eventually(lambda: clock.sleeping == 1, what="the reconnect backoff")
        clock.advance(1.0)
        await eventually(lambda: len(gaps) == 1, what="the reconnect")
    finally:
        await feed.close()
    assert gaps[0].reason == "silent"
    assert gaps[0].from_ns == OPEN_NS + 9 * SECOND
    assert venue.data_stream.max_concurrent == 1


async def parked_then_released(clock: ManualClock) -> float:
    """Wait until the session sleeps in its backoff, then let that sleep end; the delay."""
    await eventually(lambda: clock.sleeping == 1, what="the session backing off")
    delay = clock.sleeps[-1]
    clock.advance(delay)
    return delay


async def test_a_reconnect_storm_backs_off_with_full_jitter_one_connection_at_a_time(
    venue: FakeAlpaca, clock: ManualClock
) -> None:
    """Every change to the venue's behaviour is made while the client waits in its backoff,
    so each attempt meets exactly one kind of failure."""
    gaps: list[StreamGap] = []
    feed = make_feed(
        venue, clock, trades=["ABC", "XYZ"], quotes=["ABC"], gaps=gaps, seed=SEED,
        manual_sleep=True, data_silence_timeout_s=None, backoff_base_s=0.5, backoff_cap_s=8.0,
    )  # fmt: skip
    data = venue.data_stream
    batches = feed.stream()
    reading = asyncio.ensure_future(next_batch(batches))
    delays: list[float] = []
    try:
        await eventually(feed.session.ready.is_set, what="subscribed")
        await data.publish_trade("ABC", price=10.0, size=1, ts_ns=OPEN_NS)
        await reading
        data.close_after_ack = True  # the venue closes every connection once subscribed
        data.refuse_next = 2  # HTTP 503 on the next two upgrades
        await data.drop_all()
        for _ in range(5):  # 503, 503, then three times subscribed and closed
            delays.append(await parked_then_released(clock))
        data.limit_exceeded_next = 1  # "connection limit exceeded"
        delays.append(await parked_then_released(clock))
        await eventually(lambda: clock.sleeping == 1, what="the session backing off")
        port = data.port
        await data.stop()  # TCP connections refused
        for _ in range(2):
            delays.append(await parked_then_released(clock))
        await eventually(lambda: clock.sleeping == 1, what="the session backing off")
        data.close_after_ack = False
        await data.start(port=port)
        delays.append(await parked_then_released(clock))
        await eventually(feed.session.ready.is_set, what="up again")
        await data.publish_trade("XYZ", price=5.0, size=2, ts_ns=OPEN_NS + 1)
        batch = await next_batch(batches)
    finally:
        await feed.close()
    assert batch.ticks[0].symbol == "XYZ"
    assert data.max_concurrent == 1
    assert data.refused == 2
    acked = [c.subscription_acks for c in data.connections if c.subscription_acks]
    assert acked == [[{"trades": ["ABC", "XYZ"], "quotes": ["ABC"]}]] * 5
    assert feed.session.connections == 5
    assert len(gaps) == 4
    assert all(g.reason.startswith("closed") for g in gaps)
    assert all(g.from_ns <= g.to_ns for g in gaps)
    reference = FullJitterBackoff(base_s=0.5, cap_s=8.0, random=random.Random(SEED).random)
    assert delays == [reference.delay(attempt) for attempt in range(9)]
