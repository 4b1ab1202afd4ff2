"""The consume loop every stream-reading service shares: decode, handle, ack after the effect."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import msgspec
import structlog

from app.bus.codec import SchemaMismatch, decode
from app.bus.topics import ticks_topic
from app.domain.market import TickBatch
from app.observability import metrics
from app.ports.bus import MessageBus

T = TypeVar("T")

log = structlog.get_logger()


async def consume_stream(
    bus: MessageBus,
    *,
    topic: str,
    group: str,
    consumer: str,
    kind: type[T],
    handle: Callable[[list[T]], Awaitable[None]],
    stopping: asyncio.Event,
    count: int = 100,
    durable: Callable[[bool], Awaitable[bool]] | None = None,
) -> None:
    """Read batches until `stopping` is set and the group has caught up (drain), acking entries
    only once their effect is committed: after `handle` returned, or, when `handle` only
    buffers, once `durable(idle)` says everything handled so far is durable (it is asked after
    every batch, and with idle=True when a read came back empty). Undecodable entries go to the
    dead letters with the decode error as the reason."""
    unacked: list[str] = []
    async for deliveries in bus.consume(topic, group=group, consumer=consumer, count=count):
        if not deliveries:
            if unacked and durable is not None and await durable(True):
                await bus.ack(topic, group, unacked)
                unacked = []
            if stopping.is_set() and not unacked:
                return
            continue
        messages: list[T] = []
        handled: list[str] = []
        for delivery in deliveries:
            if delivery.deliveries > 1:
                metrics.BUS_REDELIVERIES.labels(topic=topic.split(".")[0]).inc()
            try:
                messages.append(decode(delivery.payload, kind))
            except (msgspec.DecodeError, msgspec.ValidationError, SchemaMismatch) as exc:
                metrics.POISON_MESSAGES.labels(topic=topic.split(".")[0]).inc()
                await bus.dead_letter(topic, group, delivery, reason=f"undecodable: {exc}")
                continue
            handled.append(delivery.entry_id)
        if messages:
            await handle(messages)
            metrics.BATCHES_CONSUMED.labels(topic=topic.split(".")[0]).inc(len(messages))
        unacked.extend(handled)
        if durable is None or await durable(False):
            await bus.ack(topic, group, unacked)
            unacked = []


async def consume_tick_streams(
    bus: MessageBus,
    *,
    shard_count: int,
    group: str,
    consumer: str,
    handle: Callable[[list[TickBatch]], Awaitable[None]],
    stopping: asyncio.Event,
    count: int = 500,
    durable: Callable[[bool], Awaitable[bool]] | None = None,
) -> None:
    """One consumer group over every shard's tick stream (recorder, simulated venue)."""
    async with asyncio.TaskGroup() as tasks:
        for shard in range(shard_count):
            tasks.create_task(
                consume_stream(
                    bus,
                    topic=ticks_topic(shard),
                    group=group,
                    consumer=consumer,
                    kind=TickBatch,
                    handle=handle,
                    stopping=stopping,
                    count=count,
                    durable=durable,
                )
            )
