"""RedisBus behaviour beyond the contract, on the shared Redis under a per-test key prefix:
stream bound, claims of a stopped consumer's entries (S5), dead letters (S18), lost groups."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from app.bus.redis_bus import RedisBus
from app.bus.redis_bus_config import RedisBusConfig
from app.ports.bus import Delivery
from tests.redis_harness import (
    SHARED_REDIS_URL,
    RecordingConsumer,
    eventually,
    redis_bus,
    shared_namespace,
)

pytestmark = pytest.mark.redis

CLAIM_INTERVAL_S = 0.1
CLAIM_MIN_IDLE_S = 0.3


@pytest.fixture
async def namespace() -> AsyncIterator[tuple[Redis, str]]:
    async with shared_namespace() as found:
        yield found


async def _started(config: RedisBusConfig) -> RedisBus:
    bus = redis_bus(SHARED_REDIS_URL, prefix=config.prefix, streams=config)
    await bus.start()
    return bus


async def _take(bus: RedisBus, topic: str, *, group: str, consumer: str, n: int) -> list[Delivery]:
    got: list[Delivery] = []
    async with asyncio.timeout(5):
        async for batch in bus.consume(topic, group=group, consumer=consumer, block_ms=50):
            got.extend(batch)
            if len(got) >= n:
                return got
    return got


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


async def _dead_letters(client: Redis, key: str) -> list[dict[bytes, bytes]]:
    rows = await client.xrange(key) or []
    return [{_bytes(k): _bytes(v) for k, v in (fields or {}).items()} for _, fields in rows]


async def test_streams_stay_near_maxlen(namespace: tuple[Redis, str]) -> None:
    client, prefix = namespace
    bus = await _started(RedisBusConfig(prefix=prefix, maxlen=100))
    try:
        ids = [await bus.publish("t", b"%d" % i) for i in range(1_000)]
    finally:
        await bus.close()
    setting = await client.config_get("stream-node-max-entries")
    node_size = int(setting.get("stream-node-max-entries") or 100)
    length = await client.xlen(f"{prefix}t")
    assert 100 <= length <= 100 + node_size
    newest = await client.xrevrange(f"{prefix}t", count=1) or []
    assert [_bytes(entry_id or b"") for entry_id, _ in newest] == [ids[-1].encode()]


async def test_entries_of_a_stopped_consumer_are_claimed_after_min_idle(
    namespace: tuple[Redis, str],
) -> None:
    client, prefix = namespace
    bus = await _started(
        RedisBusConfig(
            prefix=prefix, claim_interval_s=CLAIM_INTERVAL_S, claim_min_idle_s=CLAIM_MIN_IDLE_S
        )
    )
    try:
        for i in range(5):
            await bus.publish("t", b"%d" % i)
        delivered = asyncio.get_running_loop().time()
        taken = await _take(bus, "t", group="g", consumer="stopped", n=5)
        assert [d.deliveries for d in taken] == [1] * 5

        survivor = RecordingConsumer(bus, "t", group="g", consumer="survivor")
        stopping = asyncio.Event()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(survivor.run(stopping))
            await eventually(lambda: len(survivor.deliveries) == 5, what="claim of 5 entries")
            stopping.set()
        waited = asyncio.get_running_loop().time() - delivered
    finally:
        await bus.close()
    assert sorted(survivor.payloads()) == [b"%d" % i for i in range(5)]
    assert all(d.deliveries >= 2 for d in survivor.deliveries)
    assert CLAIM_MIN_IDLE_S * 0.95 <= waited <= 3.0  # not before min idle, soon after
    assert (await client.xpending(f"{prefix}t", "g"))["pending"] == 0


async def test_poison_entry_is_dead_lettered_after_max_deliveries(
    namespace: tuple[Redis, str],
) -> None:
    client, prefix = namespace
    bus = await _started(
        RedisBusConfig(
            prefix=prefix,
            max_deliveries=3,
            claim_interval_s=CLAIM_INTERVAL_S,
            claim_min_idle_s=CLAIM_MIN_IDLE_S,
        )
    )
    try:
        await bus.publish("t", b"ok-1")
        poison_id = await bus.publish("t", b"poison")
        await bus.publish("t", b"ok-2")
        loop = RecordingConsumer(
            bus, "t", group="g", consumer="c", acks=lambda d: d.payload != b"poison"
        )
        stopping = asyncio.Event()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(loop.run(stopping))
            await eventually(
                lambda: client.xlen(f"{prefix}dead.t"), timeout_s=10, what="dead letter"
            )
            await bus.publish("t", b"ok-3")
            await eventually(lambda: b"ok-3" in loop.acked, what="entry after the poison")
            stopping.set()
    finally:
        await bus.close()
    assert [d.deliveries for d in loop.deliveries if d.payload == b"poison"] == [1, 2, 3]
    assert sorted(loop.acked) == [b"ok-1", b"ok-2", b"ok-3"]
    assert all(loop.times_seen(p) == 1 for p in (b"ok-1", b"ok-2", b"ok-3"))
    (fields,) = await _dead_letters(client, f"{prefix}dead.t")
    assert fields[b"payload"] == b"poison"
    assert fields[b"id"].decode() == poison_id
    assert fields[b"group"] == b"g"
    assert fields[b"deliveries"] == b"4"
    assert fields[b"reason"] == b"delivered 4 times, limit 3"
    assert (await client.xpending(f"{prefix}t", "g"))["pending"] == 0


async def test_a_consumer_that_keeps_crashing_on_an_entry_dead_letters_it(
    namespace: tuple[Redis, str],
) -> None:
    client, prefix = namespace
    bus = await _started(RedisBusConfig(prefix=prefix, max_deliveries=2))
    try:
        await bus.publish("t", b"poison")
        for _ in range(2):  # each restart gets the unacknowledged entry back
            (delivery,) = await _take(bus, "t", group="g", consumer="c", n=1)
            assert delivery.payload == b"poison"
        await bus.publish("t", b"next")
        (after,) = await _take(bus, "t", group="g", consumer="c", n=1)
    finally:
        await bus.close()
    assert after.payload == b"next"
    (fields,) = await _dead_letters(client, f"{prefix}dead.t")
    assert (fields[b"payload"], fields[b"deliveries"]) == (b"poison", b"3")


@pytest.mark.parametrize("loss", ["stream deleted", "group destroyed"])
async def test_a_lost_group_is_recreated_and_reported(
    namespace: tuple[Redis, str], loss: str
) -> None:
    client, prefix = namespace
    gaps: list[tuple[str, str]] = []
    bus = redis_bus(SHARED_REDIS_URL, prefix=prefix, on_gap=lambda *gap: gaps.append(gap))
    await bus.start()
    try:
        loop = RecordingConsumer(bus, "t", group="g", consumer="c")
        stopping = asyncio.Event()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(loop.run(stopping))
            await bus.publish("t", b"before")
            await eventually(lambda: loop.acked == [b"before"], what="first entry")
            if loss == "stream deleted":
                await client.delete(f"{prefix}t")
            else:
                await client.xgroup_destroy(f"{prefix}t", "g")
            await eventually(lambda: gaps == [("t", "g")], what="gap reported")
            await bus.publish("t", b"after")
            await eventually(lambda: b"after" in loop.acked, what="entry after the loss")
            stopping.set()
    finally:
        await bus.close()
    retained = [b"before"] if loss == "group destroyed" else []  # a new group starts at 0
    assert loop.acked == [b"before", *retained, b"after"]
    groups = await client.xinfo_groups(f"{prefix}t")
    assert [g["name"] for g in groups] == [b"g"]
