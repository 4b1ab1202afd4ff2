"""Its own consumer group on every tick stream into the tick store; acks once ticks are durable.

The store buffers; the recorder flushes it when enough rows wait, when the last flush is older
than `flush_every_s`, or when the streams go quiet, and only then acknowledges the entries it
wrote, so a crash can make the recorder write a tick twice (the store keeps one) but never lose
one it acknowledged."""

from __future__ import annotations

import asyncio

from app.bus.topics import ticks_topic
from app.domain.market import TickBatch
from app.observability import metrics
from app.ports.bus import MessageBus
from app.ports.tickstore import TickStore
from app.services.consumer import consume_tick_streams

GROUP = "recorder"


class TickRecorder:
    name = "tick_recorder"

    def __init__(
        self,
        *,
        store: TickStore,
        bus: MessageBus,
        shard_count: int,
        consumer: str,
        flush_rows: int = 50_000,
        flush_every_s: float = 5.0,
    ) -> None:
        self._store = store
        self._flush_rows = flush_rows
        self._flush_every_s = flush_every_s
        self._buffered = 0
        self._flushed_at = 0.0
        self._bus = bus
        self._shard_count = shard_count
        self._consumer = consumer
        self._stopping = asyncio.Event()
        self.recorded = 0

    def request_stop(self) -> None:
        self._stopping.set()

    def consumer_groups(self) -> list[tuple[str, str]]:
        return [(ticks_topic(shard), GROUP) for shard in range(self._shard_count)]

    async def run(self) -> None:
        self._flushed_at = asyncio.get_running_loop().time()
        try:
            await consume_tick_streams(
                self._bus,
                shard_count=self._shard_count,
                group=GROUP,
                consumer=self._consumer,
                handle=self._write,
                stopping=self._stopping,
                durable=self._durable,
            )
        finally:
            await self._store.close()

    async def _write(self, batches: list[TickBatch]) -> None:
        ticks = [tick for batch in batches for tick in batch.ticks]
        await self._store.write(ticks)
        self._buffered += len(ticks)
        self.recorded += len(ticks)
        metrics.TICKS_RECORDED.inc(len(ticks))

    async def _durable(self, idle: bool) -> bool:
        now = asyncio.get_running_loop().time()
        due = self._buffered >= self._flush_rows or now - self._flushed_at >= self._flush_every_s
        if idle or due:
            await self._store.flush()
            self._buffered, self._flushed_at = 0, now
            return True
        return self._buffered == 0
