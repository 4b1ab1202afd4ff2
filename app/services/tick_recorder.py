"""Its own consumer group on every tick stream; writes to the tick store, acks after the write."""

from __future__ import annotations

import asyncio

from app.domain.market import TickBatch
from app.observability import metrics
from app.ports.bus import MessageBus
from app.ports.tickstore import TickStore
from app.services.consumer import consume_tick_streams


class TickRecorder:
    name = "tick_recorder"

    def __init__(
        self, *, store: TickStore, bus: MessageBus, shard_count: int, consumer: str
    ) -> None:
        self._store = store
        self._bus = bus
        self._shard_count = shard_count
        self._consumer = consumer
        self._stopping = asyncio.Event()
        self.recorded = 0

    def request_stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        try:
            await consume_tick_streams(
                self._bus,
                shard_count=self._shard_count,
                group="recorder",
                consumer=self._consumer,
                handle=self._write,
                stopping=self._stopping,
            )
        finally:
            await self._store.close()

    async def _write(self, batches: list[TickBatch]) -> None:
        ticks = [tick for batch in batches for tick in batch.ticks]
        await self._store.write(ticks)
        self.recorded += len(ticks)
        metrics.TICKS_RECORDED.inc(len(ticks))
