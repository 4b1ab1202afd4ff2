"""StreamRouter: validated ticks to their shard's stream, and a stop that does not wait for a
feed that has nothing to say."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from app.bus.codec import decode
from app.bus.inprocess import InProcessBus
from app.bus.partition import JumpHashPartitioner
from app.bus.topics import ticks_topic
from app.clocks.sim import SimClock
from app.domain.market import Tick, TickBatch
from app.marketdata.validation import TickValidator, ValidationConfig
from app.services.market_data import StreamRouter
from tests.builders import OPEN_NS
from tests.redis_harness import eventually


class QuietFeed:
    """One batch, then silence until closed (a venue stream when nothing trades)."""

    def __init__(self, batch: TickBatch) -> None:
        self._batch = batch
        self._closed = asyncio.Event()
        self.closes = 0

    async def stream(self) -> AsyncIterator[TickBatch]:
        yield self._batch
        await self._closed.wait()

    async def close(self) -> None:
        self.closes += 1
        self._closed.set()


async def test_a_stop_ends_a_router_waiting_on_a_quiet_feed_after_routing_what_came() -> None:
    bus = InProcessBus()
    feed = QuietFeed(TickBatch(ticks=[Tick("ABC", OPEN_NS, 10.0, 100)]))
    router = StreamRouter(
        feed=feed,
        validator=TickValidator(ValidationConfig()),
        bus=bus,
        clock=SimClock(OPEN_NS),
        partitioner=JumpHashPartitioner(1),
    )
    await bus.join(ticks_topic(0), "g")
    task = asyncio.create_task(router.run())
    await eventually(lambda: router.ticks_out == 1, what="the first batch routed")
    router.request_stop()
    async with asyncio.timeout(2):
        await task
    assert feed.closes >= 1
    stream = bus.consume(ticks_topic(0), group="g", consumer="c", block_ms=10)
    (delivery,) = await anext(stream)
    assert decode(delivery.payload, TickBatch).ticks == [Tick("ABC", OPEN_NS, 10.0, 100)]
