"""The Redis connection behind RedisBus: one client, a heartbeat, health, retries with backoff.

Redis-py's own retries are switched off so that every retry goes through one policy here: full
jitter backoff (S7), health recorded on every outcome, and a fresh connection pool when a
command or the heartbeat times out, which is how a half-open connection shows itself (S8).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.bus.redis_health import ConnectionHealth
from app.domain.backoff import FullJitterBackoff

T = TypeVar("T")

Operation = Callable[[Redis], Awaitable[T]]
Sleep = Callable[[float], Awaitable[None]]

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    OSError,
)
"""Errors that mean "Redis is unreachable right now": retry later, never crash a consumer.
Redis-py's BusyLoadingError (a restarted server still loading its AOF) is a ConnectionError."""

log = structlog.get_logger()


class BusClosed(RuntimeError):
    """The connection manager was closed; nothing more will be sent."""


class BusUnavailable(RuntimeError):
    """Redis stayed unreachable for every attempt a caller allowed."""


@dataclass(frozen=True, slots=True)
class RedisConfig:
    """How to reach Redis and how to behave when it goes away.

    `socket_timeout_s` must exceed the longest blocking read (XREADGROUP BLOCK), or a quiet
    stream would look like a dead connection. The heartbeat PINGs every
    `health_check_interval_s` and gives up after `heartbeat_timeout_s`, so a half-open
    connection is detected within their sum.
    """

    url: str = "redis://127.0.0.1:6379/0"
    socket_timeout_s: float = 10.0
    connect_timeout_s: float = 2.0
    health_check_interval_s: float = 1.0
    heartbeat_timeout_s: float = 1.5
    backoff_base_s: float = 0.1
    backoff_cap_s: float = 5.0

    def __post_init__(self) -> None:
        for name in ("socket_timeout_s", "connect_timeout_s", "health_check_interval_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if not 0 < self.heartbeat_timeout_s < self.socket_timeout_s:
            raise ValueError("heartbeat_timeout_s must be positive and below socket_timeout_s")


def _is_timeout(error: BaseException) -> bool:
    return isinstance(error, RedisTimeoutError | TimeoutError)


class RedisConnectionManager:
    """Owns the Redis client (replaced on reconnect) and the heartbeat task (started in
    `start()`, cancelled in `close()`).

    Callers pass operations as functions of the client, so a retry after a reconnect runs on
    the new client. `generation` counts clients; a change tells long-lived readers (pub/sub)
    to rebuild on the new one.
    """

    def __init__(
        self, config: RedisConfig, *, rng: random.Random, sleep: Sleep = asyncio.sleep
    ) -> None:
        self._config = config
        self._backoff = FullJitterBackoff(
            base_s=config.backoff_base_s, cap_s=config.backoff_cap_s, random=rng.random
        )
        self._sleep = sleep
        self._health = ConnectionHealth()
        self._client = self._new_client()
        self._generation = 0
        self._heartbeat: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def config(self) -> RedisConfig:
        return self._config

    @property
    def client(self) -> Redis:
        if self._closed:
            raise BusClosed("the Redis connection manager is closed")
        return self._client

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def health(self) -> ConnectionHealth:
        return self._health

    def _new_client(self) -> Redis:
        return Redis.from_url(
            self._config.url,
            socket_timeout=self._config.socket_timeout_s,
            socket_connect_timeout=self._config.connect_timeout_s,
            socket_keepalive=True,
            health_check_interval=0,
            retry=Retry(NoBackoff(), 0),
        )

    async def start(self) -> None:
        if self._closed:
            raise BusClosed("the Redis connection manager is closed")
        if self._heartbeat is None:
            self._heartbeat = asyncio.create_task(self._beat(), name="redis-heartbeat")

    async def __aenter__(self) -> RedisConnectionManager:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _now_ns(self) -> int:
        return int(asyncio.get_running_loop().time() * 1e9)

    def _record_success(self) -> None:
        self._health.record_success(self._now_ns())

    def record_failure(self, error: BaseException) -> None:
        self._health.record_failure(error)

    async def attempt(self, op: Operation[T]) -> T:
        """Run `op` once; record the outcome; on a timeout replace the pool; re-raise failures."""
        client = self.client
        generation = self._generation
        try:
            result = await op(client)
        except TRANSIENT_ERRORS as exc:
            if self._closed:
                raise BusClosed("the Redis connection manager is closed") from exc
            self.record_failure(exc)
            if _is_timeout(exc):
                await self.reconnect(seen_generation=generation)
            else:
                await self._drop_idle(client)
            raise
        self._record_success()
        return result

    async def run_with_retry(self, op: Operation[T], *, attempts: int | None = None) -> T:
        """Run `op` until it succeeds, backing off between tries; `attempts` bounds the tries
        (None: until cancelled or closed), after which BusUnavailable is raised."""
        failures = 0
        while True:
            try:
                return await self.attempt(op)
            except TRANSIENT_ERRORS as exc:
                failures += 1
                if attempts is not None and failures >= attempts:
                    raise BusUnavailable(f"Redis unreachable after {failures} tries") from exc
                log.warning("redis_command_failed", attempt=failures, error=str(exc))
                await self.pause(failures - 1)

    async def pause(self, attempt: int) -> None:
        """Wait the backoff for consecutive failure number `attempt` (0-based)."""
        delay = self._backoff.delay(attempt)
        log.info("redis_backoff", attempt=attempt, delay_s=round(delay, 3))
        await self._sleep(delay)

    async def reconnect(self, *, seen_generation: int | None = None) -> None:
        """Swap in a new client and pool, closing the old one (which fails its in-flight reads).

        With `seen_generation`, do nothing if someone reconnected since that generation.
        """
        if self._closed or (seen_generation is not None and seen_generation != self._generation):
            return
        old = self._client
        self._client = self._new_client()
        self._generation += 1
        self._health.record_reconnect()
        log.warning("redis_reconnected", generation=self._generation)
        await self._close_client(old)

    async def _drop_idle(self, client: Redis) -> None:
        """One connection found closed means its idle siblings most likely are too (a restarted
        server): drop them now rather than fail once on each."""
        try:
            await client.connection_pool.disconnect(inuse_connections=False)
        except TRANSIENT_ERRORS as exc:
            log.warning("redis_close_failed", error=str(exc))

    async def _close_client(self, client: Redis) -> None:
        try:
            await client.aclose()
        except TRANSIENT_ERRORS as exc:
            log.warning("redis_close_failed", error=str(exc))

    async def _beat(self) -> None:
        while not self._closed:
            generation = self._generation
            try:
                async with asyncio.timeout(self._config.heartbeat_timeout_s):
                    await self._client.ping()
            except TRANSIENT_ERRORS as exc:
                self.record_failure(exc)
                log.warning("redis_heartbeat_failed", error=str(exc) or type(exc).__name__)
                if _is_timeout(exc):
                    await self.reconnect(seen_generation=generation)
            else:
                self._record_success()
            await asyncio.sleep(self._config.health_check_interval_s)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        heartbeat, self._heartbeat = self._heartbeat, None
        if heartbeat is not None:
            heartbeat.cancel()
            await asyncio.wait({heartbeat})
            if not heartbeat.cancelled():
                heartbeat.result()
        await self._close_client(self._client)
