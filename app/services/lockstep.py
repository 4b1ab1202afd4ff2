"""Drives a monolith paper run in lockstep with its data: each step is finished everywhere
(shards, executor, venue) before the next begins."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from app.brokers.sim.broker import SimBroker
from app.bus.inprocess import InProcessBus
from app.domain.market import TickBatch
from app.services.signal_consumer import SignalConsumer

_OFF_PATH = ("recorder",)


class LockstepDriver:
    """Settled means: every stream group has read and acknowledged everything, each topic in
    `consumed` has its consumer, and the venue's reports have all been dealt with. Handlers
    acknowledge only after their effects, so a settled pipeline has nothing in flight. The tick
    recorder is off the trading path (it acknowledges on its own flush schedule) and is not
    waited for."""

    def __init__(
        self,
        *,
        bus: InProcessBus,
        broker: SimBroker,
        consumer: SignalConsumer,
        consumed: Sequence[str],
    ) -> None:
        self._bus = bus
        self._broker = broker
        self._consumer = consumer
        self._consumed = tuple(consumed)
        self.steps = 0

    async def settle(self) -> None:
        await self._consumer.ready.wait()
        # several independent conditions, no one event to wait on
        while not self._settled():  # noqa: ASYNC110
            await asyncio.sleep(0.0005)

    def _settled(self) -> bool:
        return self._bus.idle(self._consumed, besides=_OFF_PATH) and self._broker.idle

    async def before_step(self) -> None:
        await self.settle()
        await self._consumer.housekeep()
        await self._consumer.risk_step()
        await self.settle()

    async def on_market(self, batch: TickBatch) -> None:
        self.steps += 1
        await self._broker.on_batch(batch)
        await self.settle()
