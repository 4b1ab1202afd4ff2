"""Feeds the simulated venue the market data it matches against (only composed for `sim`)."""

from __future__ import annotations

import asyncio
from typing import Protocol

from app.bus.topics import ticks_topic
from app.domain.market import TickBatch
from app.ports.bus import MessageBus
from app.services.consumer import consume_tick_streams

GROUP = "venue"


class MarketDrivenVenue(Protocol):
    async def on_batch(self, batch: TickBatch) -> None: ...


class VenueFeeder:
    name = "venue_feeder"

    def __init__(
        self, *, venue: MarketDrivenVenue, bus: MessageBus, shard_count: int, consumer: str
    ) -> None:
        self._venue = venue
        self._bus = bus
        self._shard_count = shard_count
        self._consumer = consumer
        self._stopping = asyncio.Event()

    def request_stop(self) -> None:
        self._stopping.set()

    def consumer_groups(self) -> list[tuple[str, str]]:
        return [(ticks_topic(shard), GROUP) for shard in range(self._shard_count)]

    async def run(self) -> None:
        await consume_tick_streams(
            self._bus,
            shard_count=self._shard_count,
            group=GROUP,
            consumer=self._consumer,
            handle=self._feed,
            stopping=self._stopping,
        )

    async def _feed(self, batches: list[TickBatch]) -> None:
        for batch in batches:
            await self._venue.on_batch(batch)
