"""Feed -> validate at the edge -> partition by shard -> publish batches."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import structlog

from app.bus.codec import encode
from app.bus.partition import Partitioner
from app.bus.topics import ticks_topic
from app.domain.market import Quote, Tick, TickBatch
from app.marketdata.validation import TickValidator
from app.observability import metrics
from app.ports.bus import MessageBus
from app.ports.clock import Clock
from app.ports.feed import MarketDataFeed

log = structlog.get_logger()


class StreamRouter:
    """In the monolith it feeds the single shard; sharded, it is the router process."""

    name = "stream_router"

    def __init__(
        self,
        *,
        feed: MarketDataFeed,
        validator: TickValidator,
        bus: MessageBus,
        clock: Clock,
        partitioner: Partitioner,
        wall: Clock | None = None,
    ) -> None:
        self._feed = feed
        self._validator = validator
        self._bus = bus
        self._clock = clock
        self._partitioner = partitioner
        self._wall = wall
        self._stopping = asyncio.Event()
        self._closing: asyncio.Task[None] | None = None
        self.ticks_in = 0
        self.ticks_out = 0
        self._reported: dict[str, int] = {}

    def request_stop(self) -> None:
        """Take no new input: the feed is closed at once, so a feed waiting for data that may
        not come (a quiet venue stream) ends now instead of at its next batch."""
        self._stopping.set()
        if self._closing is None:
            self._closing = asyncio.get_running_loop().create_task(self._feed.close())

    async def run(self) -> None:
        stream = self._feed.stream()
        try:
            async for batch in stream:
                await self._route(batch)
                if self._stopping.is_set():
                    break
        finally:
            if self._closing is not None:
                await self._closing
            await self._feed.close()
        log.info("feed_ended", ticks_in=self.ticks_in, ticks_out=self.ticks_out)

    async def _route(self, batch: TickBatch) -> None:
        self.ticks_in += len(batch.ticks)
        metrics.TICKS_RECEIVED.inc(len(batch.ticks))
        clean = self._validator.check_batch(batch, now_ns=self._clock.now_ns())
        self._report_quarantine()
        ticks: defaultdict[int, list[Tick]] = defaultdict(list)
        quotes: defaultdict[int, list[Quote]] = defaultdict(list)
        for tick in clean.ticks:
            ticks[self._partitioner.shard_of(tick.symbol)].append(tick)
        for quote in clean.quotes:
            quotes[self._partitioner.shard_of(quote.symbol)].append(quote)
        for shard in sorted(ticks.keys() | quotes.keys()):
            sent = self._wall.now_ns() if self._wall is not None else 0
            payload = encode(TickBatch(ticks=ticks[shard], quotes=quotes[shard], sent_ns=sent))
            await self._bus.publish(ticks_topic(shard), payload)
        self.ticks_out += len(clean.ticks)
        metrics.TICKS_PUBLISHED.inc(len(clean.ticks))

    def _report_quarantine(self) -> None:
        for reason, count in self._validator.counts.items():
            new = count - self._reported.get(reason, 0)
            if new:
                metrics.TICKS_QUARANTINED.labels(reason=reason).inc(new)
                self._reported[reason] = count

    @property
    def quarantined(self) -> dict[str, int]:
        return dict(self._validator.counts)
