"""S8: the connection to Redis goes half-open (bytes vanish, no reset ever comes)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from redis.asyncio import Redis

from app.bus.connection import RedisConfig
from tests.chaos.tcp_proxy import blackhole_proxy
from tests.redis_harness import RecordingConsumer, eventually, own_redis, redis_bus

pytestmark = [pytest.mark.redis, pytest.mark.timeout(60)]

PREFIX = "chaos:"


async def _subscribers(url: str, channel: str) -> int:
    client = Redis.from_url(url)
    try:
        ((_, count),) = await client.pubsub_numsub(channel)
    finally:
        await client.aclose()
    return int(count)


async def test_half_open_connection_is_detected_and_everything_resumes(tmp_path: Path) -> None:
    heard: list[bytes] = []
    async with (
        asyncio.timeout(50),
        own_redis(tmp_path, appendonly=False) as server,
        blackhole_proxy(server.port) as proxy,
    ):
        redis = RedisConfig(url=proxy.url, health_check_interval_s=0.5, heartbeat_timeout_s=1.0)
        bus = redis_bus(proxy.url, prefix=PREFIX, redis=redis)
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
                await bus.publish("t", b"before")
                await eventually(lambda: loop.acked == [b"before"], what="entry before the cut")
                await eventually(lambda: bus.subscriptions == {"ui"}, what="subscribed")
                await bus.broadcast("ui", b"before")
                await eventually(lambda: heard == [b"before"], what="event before the cut")
                reconnects = bus.health.reconnects

                proxy.blackhole()
                cut = asyncio.get_running_loop().time()
                await eventually(
                    lambda: bus.health.reconnects > reconnects, timeout_s=5, what="detection"
                )
                detected_in = asyncio.get_running_loop().time() - cut

                await eventually(lambda: bus.subscriptions == {"ui"}, what="resubscribed")

                async def one_subscriber() -> bool:
                    return await _subscribers(server.url, f"{PREFIX}ui") == 1

                await eventually(one_subscriber, what="exactly one subscriber on the server")
                await bus.publish("t", b"after")
                await eventually(lambda: b"after" in loop.acked, what="entry after healing")
                await bus.broadcast("ui", b"after")
                stopping.set()
        finally:
            await bus.close()
    assert detected_in <= 5.0
    assert loop.acked == [b"before", b"after"]
    assert heard == [b"before", b"after"]
