"""The recorder acknowledges ticks only once its store has made them durable."""

from __future__ import annotations

import asyncio

from app.bus.codec import encode
from app.bus.inprocess import InProcessBus
from app.bus.topics import ticks_topic
from app.domain.market import Tick, TickBatch
from app.services.tick_recorder import TickRecorder
from app.tickstore.memory import MemoryTickStore
from tests.builders import OPEN_NS


class CountingStore(MemoryTickStore):
    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0

    async def flush(self) -> None:
        self.flushes += 1
        await super().flush()


async def test_entries_stay_pending_until_the_store_flushes() -> None:
    bus, store = InProcessBus(), CountingStore()
    recorder = TickRecorder(
        store=store, bus=bus, shard_count=1, consumer="r", flush_rows=3, flush_every_s=3600
    )
    task = asyncio.create_task(recorder.run())
    topic = ticks_topic(0)
    await bus.publish(topic, encode(TickBatch(ticks=[Tick("ABC", OPEN_NS, 10.0, 100, 1)])))
    async with asyncio.timeout(5):
        while recorder.recorded < 1:  # noqa: ASYNC110 - polling the recorder's own counter
            await asyncio.sleep(0.005)
    assert bus.pending_count(topic, "recorder") == 1 and store.flushes == 0
    more = [Tick("ABC", OPEN_NS + i, 10.0, 100, i + 1) for i in range(1, 3)]
    await bus.publish(topic, encode(TickBatch(ticks=more)))
    async with asyncio.timeout(5):
        while bus.pending_count(topic, "recorder"):  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    assert store.flushes >= 1
    recorder.request_stop()
    async with asyncio.timeout(5):
        await task
    await bus.close()
