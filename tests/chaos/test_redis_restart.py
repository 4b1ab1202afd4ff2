"""S7: Redis killed with -9 and restarted under a running consumer, on a server of our own."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from app.bus.connection import RedisConfig
from app.bus.redis_bus import RedisBus
from tests.redis_harness import (
    RecordingConsumer,
    RecordingSleep,
    eventually,
    own_redis,
    redis_bus,
)

pytestmark = [pytest.mark.redis, pytest.mark.timeout(60)]

PREFIX = "chaos:"
TEST_BOUND_S = 50
DOWNTIME_S = 1.5


def _bus(url: str, sleep: RecordingSleep, gaps: list[tuple[str, str]]) -> RedisBus:
    fast_heartbeat = RedisConfig(url=url, health_check_interval_s=0.2, heartbeat_timeout_s=0.5)
    return redis_bus(
        url,
        prefix=PREFIX,
        seed=11,
        redis=fast_heartbeat,
        sleep=sleep,
        on_gap=lambda topic, group: gaps.append((topic, group)),
    )


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


async def test_with_persistence_every_unacked_entry_comes_back(tmp_path: Path) -> None:
    sleep = RecordingSleep(real=True)
    gaps: list[tuple[str, str]] = []
    first = [b"m%02d" % i for i in range(20)]
    held = set(first[1::2])  # delivered but not acknowledged when Redis dies
    async with asyncio.timeout(TEST_BOUND_S), own_redis(tmp_path, appendonly=True) as server:
        bus = _bus(server.url, sleep, gaps)
        await bus.start()
        try:
            for payload in first:
                await bus.publish("t", payload)
            loop = RecordingConsumer(
                bus,
                "t",
                group="g",
                consumer="c",
                acks=lambda d: d.payload not in held or d.deliveries > 1,
            )
            stopping = asyncio.Event()
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(loop.run(stopping))
                await eventually(
                    lambda: len(loop.deliveries) == 20 and len(loop.acked) == 10,
                    what="first deliveries, half of them acknowledged",
                )
                await server.kill()
                await eventually(lambda: not bus.health.healthy, what="outage noticed")
                tasks.create_task(bus.publish("t", b"during"))  # retried until Redis is back
                await asyncio.sleep(DOWNTIME_S)  # let retries fail for a while
                await server.start()
                restarted = _loop_time()
                await eventually(
                    lambda: set(loop.acked) == {*first, b"during"},
                    timeout_s=15,
                    what="redeliveries",
                )
                recovered_in = _loop_time() - restarted
                later = [b"late-%d" % i for i in range(3)]
                for payload in later:
                    await bus.publish("t", payload)
                await eventually(lambda: set(later) <= set(loop.acked), what="later entries")
                stopping.set()
            client = Redis.from_url(server.url)
            try:
                length = await client.xlen(f"{PREFIX}t")
                pending = (await client.xpending(f"{PREFIX}t", "g"))["pending"]
            finally:
                await client.aclose()
        finally:
            await bus.close()
    assert {d.payload for d in loop.deliveries if d.deliveries >= 2} == held
    assert all(loop.times_seen(p) == 1 for p in first if p not in held)  # acks survived
    assert (length, pending) == (24, 0)  # nothing acknowledged by Redis was lost
    assert gaps == []
    assert 2 <= len(sleep.delays) <= 40  # retried, backing off rather than spinning
    assert sleep.delays[0] <= 0.5
    assert max(sleep.delays) <= 5.0
    assert recovered_in <= 6.0


async def _group_exists(url: str, key: str, group: bytes) -> bool:
    client = Redis.from_url(url)
    try:
        groups = await client.xinfo_groups(key)
    except ResponseError:
        return False
    finally:
        await client.aclose()
    return any(g["name"] == group for g in groups)


async def _server_channels(url: str) -> list[bytes]:
    client = Redis.from_url(url)
    try:
        channels = await client.pubsub_channels(f"{PREFIX}*")
    finally:
        await client.aclose()
    return sorted(c if isinstance(c, bytes) else c.encode() for c in channels)


async def test_with_data_wiped_groups_come_back_and_new_entries_flow(tmp_path: Path) -> None:
    sleep = RecordingSleep(real=True)
    gaps: list[tuple[str, str]] = []
    heard: list[bytes] = []
    async with asyncio.timeout(TEST_BOUND_S), own_redis(tmp_path, appendonly=False) as server:
        bus = _bus(server.url, sleep, gaps)
        await bus.start()

        async def listen() -> None:
            async for payload in bus.listen("ui"):
                heard.append(payload)
                if payload == b"after":
                    return

        try:
            loop = RecordingConsumer(bus, "t", group="g", consumer="c")
            stopping = asyncio.Event()
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(loop.run(stopping))
                tasks.create_task(listen())
                for i in range(5):
                    await bus.publish("t", b"before-%d" % i)
                await eventually(lambda: len(loop.acked) == 5, what="entries before the kill")
                await eventually(lambda: bus.subscriptions == {"ui"}, what="subscribed")
                await bus.broadcast("ui", b"before")
                await eventually(lambda: heard == [b"before"], what="event before the kill")
                await server.kill()
                await asyncio.sleep(DOWNTIME_S)  # let retries fail for a while
                await server.start()
                restarted = _loop_time()
                await eventually(
                    lambda: _group_exists(server.url, f"{PREFIX}t", b"g"),
                    timeout_s=5,
                    what="group recreated",
                )
                recreated_in = _loop_time() - restarted
                for i in range(3):
                    await bus.publish("t", b"after-%d" % i)
                await eventually(lambda: len(loop.acked) == 8, what="entries after the wipe")
                await eventually(lambda: bus.subscriptions == {"ui"}, what="resubscribed")
                assert await _server_channels(server.url) == [f"{PREFIX}ui".encode()]
                await bus.broadcast("ui", b"after")
                stopping.set()
        finally:
            await bus.close()
    assert recreated_in <= 5.0
    assert gaps == [("t", "g")]
    assert loop.acked == [b"before-%d" % i for i in range(5)] + [b"after-%d" % i for i in range(3)]
    assert heard == [b"before", b"after"]
    assert sleep.delays[0] <= 0.5
    assert max(sleep.delays) <= 5.0
