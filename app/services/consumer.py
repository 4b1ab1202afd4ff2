"""The consume loop every stream-reading service shares: decode, handle, ack after the effect."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import msgspec
import structlog

from app.bus.codec import SchemaMismatch, decode
from app.bus.topics import ticks_topic
from app.domain.market import TickBatch
from app.observability import metrics
from app.ports.bus import Delivery, MessageBus
from app.services.poison import PoisonRetry, handle_one_by_one, is_outage

T = TypeVar("T")

RETRY_ALONE = PoisonRetry()
"""The default for handlers that tolerate a message twice (idempotent by dedup key,
execution id or tick key): a failed batch is retried one message at a time."""

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
    poison: PoisonRetry | None = RETRY_ALONE,
) -> None:
    """Read batches until `stopping` is set and the group has caught up (drain), acking entries
    only once their effect is committed: after `handle` returned, or, when `handle` only
    buffers, once `durable(idle)` says everything handled so far is durable (it is asked after
    every batch, and with idle=True when a read came back empty). Undecodable entries go to the
    dead letters with the decode error as the reason.

    When `handle` raises, an outage (see `is_outage`) propagates with the batch pending. Any
    other error is a poison message: with `poison` set, the batch is handled again one message
    at a time and the messages that keep failing are dead-lettered (see
    `app.services.poison`). A handler whose state a repeated message would corrupt passes
    `poison=None`: its error stops the service, whose restart rebuilds that state, and entries
    that come back are handled one at a time, so only the culprit fails again until the bus
    dead-letters it after its maximum deliveries."""
    unacked: list[str] = []
    async for deliveries in bus.consume(topic, group=group, consumer=consumer, count=count):
        if not deliveries:
            if unacked and durable is not None and await durable(True):
                await bus.ack(topic, group, unacked)
                unacked = []
            if stopping.is_set() and not unacked:
                return
            continue
        batch = await _decoded(bus, topic=topic, group=group, deliveries=deliveries, kind=kind)
        for part in _parts(batch, poison=poison):
            if part:
                handled = await _handle(
                    bus, topic=topic, group=group, batch=part, handle=handle, poison=poison
                )
                metrics.BATCHES_CONSUMED.labels(topic=topic.split(".")[0]).inc(len(handled))
                unacked.extend(handled)
            if durable is None or await durable(False):
                await bus.ack(topic, group, unacked)
                unacked = []


async def _decoded(
    bus: MessageBus, *, topic: str, group: str, deliveries: Sequence[Delivery], kind: type[T]
) -> list[tuple[Delivery, T]]:
    """Each delivery with its message; undecodable ones are dead-lettered on the way."""
    batch: list[tuple[Delivery, T]] = []
    for delivery in deliveries:
        if delivery.deliveries > 1:
            metrics.BUS_REDELIVERIES.labels(topic=topic.split(".")[0]).inc()
        try:
            batch.append((delivery, decode(delivery.payload, kind)))
        except (msgspec.DecodeError, msgspec.ValidationError, SchemaMismatch) as exc:
            metrics.POISON_MESSAGES.labels(topic=topic.split(".")[0]).inc()
            await bus.dead_letter(topic, group, delivery, reason=f"undecodable: {exc}")
    return batch


def _parts(
    batch: list[tuple[Delivery, T]], *, poison: PoisonRetry | None
) -> list[list[tuple[Delivery, T]]]:
    """The batch as one part, or, for a handler that is not retried in-process and entries
    that come back after a failure, one part per message: each is acknowledged on its own, so
    the culprit is the only entry whose deliveries keep growing."""
    if poison is None and any(delivery.deliveries > 1 for delivery, _ in batch):
        return [[one] for one in batch]
    return [batch]


async def _handle(
    bus: MessageBus,
    *,
    topic: str,
    group: str,
    batch: list[tuple[Delivery, T]],
    handle: Callable[[list[T]], Awaitable[None]],
    poison: PoisonRetry | None,
) -> list[str]:
    """Handle a decoded batch; the entry ids whose effect is done (the rest were dead-lettered)."""
    try:
        await handle([message for _, message in batch])
    except Exception as exc:
        if poison is None or is_outage(exc):
            raise
        log.warning("batch_failed", topic=topic, group=group, n=len(batch), error=repr(exc))
        return await handle_one_by_one(
            bus, topic=topic, group=group, batch=batch, handle=handle, retry=poison
        )
    return [delivery.entry_id for delivery, _ in batch]


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
