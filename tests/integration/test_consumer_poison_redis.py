"""S18 on Redis Streams: the consume loop dead-letters the entry its handler keeps failing on,
with the error as the reason, and acknowledges the rest; an outage (S9) buries nothing and the
entries come back once the dependency is back. On the shared Redis under a per-test prefix."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from sqlalchemy.exc import OperationalError

from app.bus.codec import encode
from app.bus.redis_bus import RedisBus
from app.services.consumer import consume_stream
from app.services.poison import PoisonRetry
from tests.redis_harness import SHARED_REDIS_URL, redis_bus, shared_namespace

pytestmark = pytest.mark.redis

TOPIC = "signals"
GROUP = "execution"
MESSAGES = [f"signal-{i}" for i in range(6)]
CULPRIT = "signal-3"


@pytest.fixture
async def namespace() -> AsyncIterator[tuple[Redis, str]]:
    async with shared_namespace() as found:
        yield found


class Handler:
    """Books each message once by its key; raises `error` whenever the culprit is in a batch
    while `failing` is set."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.failing = True
        self.calls = 0
        self.booked: Counter[str] = Counter()

    async def __call__(self, messages: list[str]) -> None:
        self.calls += 1
        for message in messages:
            if self.failing and message == CULPRIT:
                raise self.error
            if message not in self.booked:
                self.booked[message] += 1


async def _drain(bus: RedisBus, handler: Handler) -> None:
    stopping = asyncio.Event()
    stopping.set()
    async with asyncio.timeout(10):
        await consume_stream(
            bus, topic=TOPIC, group=GROUP, consumer="executor-1", kind=str, handle=handler,
            stopping=stopping, poison=PoisonRetry(retries=3, backoff_s=0.01),
        )  # fmt: skip


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def test_the_culprit_goes_to_the_dead_letters_and_the_rest_is_acked(
    namespace: tuple[Redis, str],
) -> None:
    client, prefix = namespace
    bus = redis_bus(SHARED_REDIS_URL, prefix=prefix)
    await bus.start()
    try:
        ids = {m: await bus.publish(TOPIC, encode(m)) for m in MESSAGES}
        handler = Handler(ValueError("stop price above entry for a long"))
        await _drain(bus, handler)
    finally:
        await bus.close()

    assert handler.booked == Counter(m for m in MESSAGES if m != CULPRIT)
    rows = await client.xrange(f"{prefix}dead.{TOPIC}") or []
    ((_, raw),) = rows
    letter = {_text(k): v for k, v in (raw or {}).items()}
    assert _text(letter["id"]) == ids[CULPRIT]
    assert letter["payload"] == encode(CULPRIT)
    assert letter["group"] == GROUP.encode()
    assert _text(letter["reason"]) == (
        "handler failed 3 times: ValueError: stop price above entry for a long"
    )
    assert letter["deliveries"] == b"1"  # retried in-process, not redelivered by Redis
    assert (await client.xpending(f"{prefix}{TOPIC}", GROUP))["pending"] == 0
    (info,) = await client.xinfo_groups(f"{prefix}{TOPIC}")
    assert (info["lag"], _text(info["last-delivered-id"])) == (0, ids[MESSAGES[-1]])


async def test_an_outage_buries_nothing_and_the_entries_come_back(
    namespace: tuple[Redis, str],
) -> None:
    client, prefix = namespace
    bus = redis_bus(SHARED_REDIS_URL, prefix=prefix)
    await bus.start()
    try:
        for message in MESSAGES:
            await bus.publish(TOPIC, encode(message))
        handler = Handler(OperationalError("INSERT", {}, ConnectionRefusedError(111, "refused")))
        with pytest.raises(OperationalError):
            await _drain(bus, handler)
        pending = await client.xpending(f"{prefix}{TOPIC}", GROUP)
        dead_while_down = await client.exists(f"{prefix}dead.{TOPIC}")

        handler.failing = False  # the database is back; the service restarts
        await _drain(bus, handler)
    finally:
        await bus.close()

    assert pending["pending"] == len(MESSAGES) and dead_while_down == 0
    assert handler.calls == 2  # the failed batch, then the redelivered one: no retries
    assert handler.booked == Counter(MESSAGES)
    assert (await client.xpending(f"{prefix}{TOPIC}", GROUP))["pending"] == 0
    assert await client.exists(f"{prefix}dead.{TOPIC}") == 0
