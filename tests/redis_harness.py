"""Redis for tests: a namespace on the shared server, a server of one's own to kill, waiting.

The shared server comes from TRADER_TEST_REDIS_URL (default the local one). Tests there get a
unique key prefix and delete every key under it afterwards; an unreachable server fails the
test with a clear message (run `pytest -m 'not redis'` to leave them out on purpose). Tests that
kill or restart Redis start their own `redis-server` on a free port and never touch the shared
one.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import random
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from app.bus.connection import RedisConfig, RedisConnectionManager, Sleep
from app.bus.redis_bus import RedisBus
from app.bus.redis_bus_config import RedisBusConfig
from app.bus.redis_group_reader import GapHandler
from app.ports.bus import Delivery, MessageBus

SHARED_REDIS_URL = os.environ.get("TRADER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def eventually(
    condition: Callable[[], object],
    *,
    timeout_s: float = 5.0,
    interval_s: float = 0.02,
    what: str = "condition",
) -> None:
    """Poll `condition` (its result awaited if awaitable) until truthy; fail after `timeout_s`."""
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                result = condition()
                if inspect.isawaitable(result):
                    result = await result
                if result:
                    return
                await asyncio.sleep(interval_s)
    except TimeoutError:
        pytest.fail(f"{what} not reached within {timeout_s} s", pytrace=False)


async def delete_prefixed(client: Redis, prefix: str) -> None:
    keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
    if keys:
        await client.unlink(*keys)


@asynccontextmanager
async def shared_namespace(url: str = SHARED_REDIS_URL) -> AsyncIterator[tuple[Redis, str]]:
    """A raw client and a fresh key prefix on the shared Redis; the prefix's keys are deleted
    afterwards."""
    prefix = f"test:{secrets.token_hex(6)}:"
    client = Redis.from_url(url)
    try:
        try:
            await client.ping()
        except (RedisConnectionError, OSError) as exc:
            pytest.fail(
                f"Redis at {url} is unreachable ({exc!r}); start it or point "
                "TRADER_TEST_REDIS_URL at one. Run `pytest -m 'not redis'` to leave these "
                "tests out on purpose.",
                pytrace=False,
            )
        try:
            yield client, prefix
        finally:
            await delete_prefixed(client, prefix)
    finally:
        await client.aclose()


def redis_bus(
    url: str,
    *,
    prefix: str,
    seed: int = 0,
    redis: RedisConfig | None = None,
    streams: RedisBusConfig | None = None,
    sleep: Sleep = asyncio.sleep,
    on_gap: GapHandler | None = None,
) -> RedisBus:
    """A RedisBus (not started) with test-friendly defaults."""
    connection = RedisConnectionManager(
        redis or RedisConfig(url=url), rng=random.Random(seed), sleep=sleep
    )
    return RedisBus(connection, config=streams or RedisBusConfig(prefix=prefix), on_gap=on_gap)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """A `redis-server` process of this test's own, restartable on the same port and dir."""

    def __init__(self, directory: Path, *, appendonly: bool, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self._appendonly = appendonly
        self._process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self, *, timeout_s: float = 10.0) -> None:
        """Start the server and wait until it answers PING (its AOF loaded)."""
        persistence = ["--appendonly", "yes", "--appendfsync", "always"]
        args = [
            "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--save", "",
            *(persistence if self._appendonly else ["--appendonly", "no"]),
        ]  # fmt: skip
        self._process = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        client = Redis.from_url(self.url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:

            async def answers() -> bool:
                try:
                    return bool(await client.ping())
                except (RedisConnectionError, OSError):
                    return False

            await eventually(answers, timeout_s=timeout_s, interval_s=0.05, what="redis up")
        finally:
            await client.aclose()

    async def kill(self) -> None:
        """SIGKILL, as a crash: no shutdown save, no goodbye to clients."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None:
            process.kill()
        async with asyncio.timeout(10):
            await process.wait()


@asynccontextmanager
async def own_redis(directory: Path, *, appendonly: bool) -> AsyncIterator[RedisServer]:
    """A started server of one's own; killed on the way out, even when the test failed."""
    server = RedisServer(directory, appendonly=appendonly)
    try:
        await server.start()
        yield server
    finally:
        await server.kill()


class RecordingConsumer:
    """A consume loop like the services' one: read a batch, record it, ack what `acks` allows,
    stop on an empty batch once `stopping` is set."""

    def __init__(
        self,
        bus: MessageBus,
        topic: str,
        *,
        group: str,
        consumer: str,
        acks: Callable[[Delivery], bool] = lambda _: True,
        count: int = 100,
        block_ms: int = 100,
    ) -> None:
        self._bus = bus
        self._topic = topic
        self._group = group
        self._consumer = consumer
        self._acks = acks
        self._count = count
        self._block_ms = block_ms
        self.deliveries: list[Delivery] = []
        self.acked: list[bytes] = []

    def payloads(self) -> list[bytes]:
        return [d.payload for d in self.deliveries]

    def times_seen(self, payload: bytes) -> int:
        return sum(1 for d in self.deliveries if d.payload == payload)

    async def run(self, stopping: asyncio.Event) -> None:
        stream = self._bus.consume(
            self._topic,
            group=self._group,
            consumer=self._consumer,
            count=self._count,
            block_ms=self._block_ms,
        )
        async for batch in stream:
            if not batch:
                if stopping.is_set():
                    return
                continue
            self.deliveries.extend(batch)
            done = [d for d in batch if self._acks(d)]
            await self._bus.ack(self._topic, self._group, [d.entry_id for d in done])
            self.acked.extend(d.payload for d in done)


class RecordingSleep:
    """An injected sleep that remembers each requested delay; with `real`, it also sleeps."""

    def __init__(self, *, real: bool) -> None:
        self.delays: list[float] = []
        self._real = real

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(delay if self._real else 0)
