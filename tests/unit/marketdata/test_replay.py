from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

from app.clocks.sim import SimClock
from app.domain.calendar import session_open_ns
from app.domain.market import Tick, TickBatch
from app.marketdata.replay import ReplayFeed
from app.marketdata.synthetic import SyntheticConfig, SyntheticTape
from app.ports.feed import MarketDataFeed
from app.tickstore.memory import MemoryTickStore

NS = 1_000_000_000
OPEN = session_open_ns(dt.date(2026, 3, 9))
END = OPEN + 120 * NS


async def recorded(*, batch_size: int = 100) -> tuple[MemoryTickStore, list[Tick]]:
    ticks = SyntheticTape(SyntheticConfig(seed=2, symbols=10), OPEN).ticks_until(OPEN + 180 * NS)
    store = MemoryTickStore(batch_size=batch_size)
    await store.write(ticks[::-1])
    return store, ticks


class CountingClock:
    """A SimClock that counts how often it is read, to wait on the feed's polling."""

    def __init__(self, start_ns: int) -> None:
        self.sim = SimClock(start_ns)
        self.reads = 0

    def now_ns(self) -> int:
        self.reads += 1
        return self.sim.now_ns()


async def wait_until(condition: Callable[[], bool], *, timeout_s: float = 5.0) -> None:
    """Poll `condition` every millisecond; fail after `timeout_s`."""
    for _ in range(int(timeout_s * 1_000)):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition not met in time")


async def test_replays_the_range_in_time_order_as_fast_as_possible() -> None:
    store, ticks = await recorded()
    feed = ReplayFeed(store, start_ns=OPEN + 10 * NS, end_ns=END, symbols={"SYNA", "SYNC"})
    batches = [batch async for batch in feed.stream()]
    expected = [
        t for t in ticks if OPEN + 10 * NS <= t.ts_ns < END and t.symbol in {"SYNA", "SYNC"}
    ]
    assert len(expected) > 50
    assert [t for b in batches for t in b.ticks] == expected
    assert all(b.quotes == [] for b in batches)


async def test_paced_by_the_clock_never_early() -> None:
    store, ticks = await recorded(batch_size=37)
    clock = CountingClock(OPEN)
    feed = ReplayFeed(store, start_ns=OPEN, end_ns=END, clock=clock, poll_s=0.001)
    received: list[Tick] = []
    expected = [t for t in ticks if t.ts_ns < END]

    async def consume() -> None:
        async for batch in feed.stream():
            assert all(t.ts_ns <= clock.sim.now_ns() for t in batch.ticks)
            received.extend(batch.ticks)

    async with asyncio.timeout(10), asyncio.TaskGroup() as tasks:
        tasks.create_task(consume())
        reads = clock.reads
        await wait_until(lambda: clock.reads >= reads + 3)
        assert received == []  # the first tick is after OPEN: the feed waits
        while clock.sim.now_ns() < END:
            clock.sim.advance_by(NS)

            def polled_again(since: int = clock.reads) -> bool:
                return clock.reads > since or len(received) == len(expected)

            await wait_until(polled_again)
    assert received == expected


async def test_close_stops_the_replay() -> None:
    store, _ = await recorded(batch_size=10)
    feed: MarketDataFeed = ReplayFeed(store, start_ns=OPEN, end_ns=END)
    seen: list[TickBatch] = []
    async for batch in feed.stream():
        seen.append(batch)
        await feed.close()
    assert len(seen) == 1
