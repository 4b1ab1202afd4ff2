"""Poison messages (S18): tell a message a handler cannot take from a dependency that is down,
and take a failed batch apart so that only the message at fault is dead-lettered.

The distinction is the whole point. A handler that raises on one message would, left alone,
stop its service and have every entry of the batch redelivered until the bus buries them all;
so the batch is retried one message at a time and the one that keeps failing goes to the dead
letters with the error as the reason. But a handler that raises because PostgreSQL, Redis, the
tick store or the venue is unreachable must leave every entry pending for after the recovery
(S9): dead-lettering then would throw good work away. Those errors propagate unchanged.

Retrying one message at a time runs the handler again on the messages that preceded the
culprit in the batch, so it is only for handlers that tolerate seeing a message twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import asyncpg
import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.bus.connection import BusClosed, BusUnavailable
from app.observability import metrics
from app.ports.broker import BrokerUnavailable, TransientBrokerError
from app.ports.bus import Delivery, MessageBus
from app.ports.lease import LeaseLost
from app.tickstore.questdb_errors import TickStoreUnavailable

T = TypeVar("T")

log = structlog.get_logger()

_OUTAGES: tuple[type[BaseException], ...] = (
    OSError,  # ConnectionError and TimeoutError included
    asyncio.CancelledError,
    RedisConnectionError,
    RedisTimeoutError,
    BusClosed,
    BusUnavailable,
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
    asyncpg.TooManyConnectionsError,
    TickStoreUnavailable,
    BrokerUnavailable,
    TransientBrokerError,
    LeaseLost,
)


def is_outage(error: BaseException) -> bool:
    """True when `error` (or an error it was raised from) says something this process depends
    on is unavailable, rather than that the message is bad: a lost or refused connection, a
    timeout, an exhausted pool, a database shutting down, a venue or tick store that cannot be
    reached, a cancelled task, or an executor fenced off by a newer lease holder. Retrying the
    message cannot help with any of these and dead-lettering it would lose it, so the error
    must reach the service, which fails or waits with the entry still pending."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, _OUTAGES):
            return True
        if isinstance(cause, DBAPIError) and cause.connection_invalidated:
            return True
        cause = cause.__cause__
    return False


@dataclass(frozen=True, slots=True)
class PoisonRetry:
    """How a batch whose handler raised is taken apart: each message is handled alone, retried
    up to `retries` times with a backoff starting at `backoff_s` and doubling, before it is
    dead-lettered. The bound keeps one bad message from stalling its stream for long."""

    retries: int = 3
    backoff_s: float = 0.05

    def __post_init__(self) -> None:
        if self.retries < 1:
            raise ValueError("retries must be at least 1")
        if self.backoff_s < 0:
            raise ValueError("backoff_s must not be negative")


async def handle_one_by_one(
    bus: MessageBus,
    *,
    topic: str,
    group: str,
    batch: Sequence[tuple[Delivery, T]],
    handle: Callable[[list[T]], Awaitable[None]],
    retry: PoisonRetry,
) -> list[str]:
    """Handle each message of a failed batch on its own; dead-letter (and so acknowledge) the
    ones that still fail after `retry.retries` attempts, with the last error as the reason.
    Returns the entry ids that were handled. An outage propagates at once, leaving every entry
    not yet dead-lettered pending."""
    handled: list[str] = []
    for delivery, message in batch:
        error = await _attempt(handle, message, retry)
        if error is None:
            handled.append(delivery.entry_id)
            continue
        reason = f"handler failed {retry.retries} times: {type(error).__name__}: {error}"
        metrics.POISON_MESSAGES.labels(topic=topic.split(".")[0]).inc()
        log.error(
            "message_poisoned", topic=topic, group=group, entry=delivery.entry_id, reason=reason
        )
        await bus.dead_letter(topic, group, delivery, reason=reason)
    return handled


async def _attempt(
    handle: Callable[[list[T]], Awaitable[None]], message: T, retry: PoisonRetry
) -> Exception | None:
    """None once `handle([message])` succeeds, else the last error after `retry.retries` tries."""
    delay = retry.backoff_s
    last: Exception | None = None
    for attempt in range(retry.retries):
        if attempt:
            await asyncio.sleep(delay)
            delay *= 2
        try:
            await handle([message])
        except Exception as exc:
            if is_outage(exc):
                raise
            last = exc
        else:
            return None
    return last
