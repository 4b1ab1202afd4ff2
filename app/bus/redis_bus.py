"""The sharded deployment's bus: Redis Streams with consumer groups, pub/sub for UI events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from app.bus.connection import TRANSIENT_ERRORS, BusClosed, RedisConnectionManager
from app.bus.redis_bus_config import RedisBusConfig
from app.bus.redis_group_reader import PAYLOAD_FIELD, GapHandler, GroupReader, bury
from app.bus.redis_health import ConnectionHealth
from app.bus.redis_pubsub import PubSubRelay
from app.ports.bus import Delivery

log = structlog.get_logger()


class RedisBus:
    """MessageBus on Redis, with the semantics of InProcessBus.

    A group created late starts at the oldest retained entry. A consumer first gets its own
    pending entries back, then new ones; entries left idle by a dead or paused consumer are
    claimed; entries handed out more than `max_deliveries` times go to `dead.<topic>`. A Redis
    outage never ends `consume()`: it yields empty batches while backing off, and entries not
    acknowledged before the outage come back after it. A group lost with Redis' data is
    recreated and reported to `on_gap`.

    The bus owns `connection`: `start()` starts it, `close()` closes it.
    """

    def __init__(
        self,
        connection: RedisConnectionManager,
        *,
        config: RedisBusConfig,
        on_gap: GapHandler | None = None,
    ) -> None:
        self._connection = connection
        self._config = config
        self._on_gap = on_gap
        self._relay = PubSubRelay(connection, prefix=config.prefix)
        self._closed = False

    @property
    def health(self) -> ConnectionHealth:
        return self._connection.health

    @property
    def subscriptions(self) -> frozenset[str]:
        """Channels with a listener that Redis has confirmed (unprefixed)."""
        return self._relay.subscriptions

    async def start(self) -> None:
        await self._connection.start()

    async def __aenter__(self) -> RedisBus:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def publish(self, topic: str, payload: bytes) -> str:
        """XADD, retried through outages; a retry after a lost reply can append a duplicate,
        which consumers already tolerate (at-least-once, dedup keys)."""
        key = self._config.stream_key(topic)

        def add(client: Redis) -> Any:
            return client.xadd(key, {PAYLOAD_FIELD: payload}, maxlen=self._config.maxlen)

        entry_id = await self._connection.run_with_retry(add)
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)

    async def join(self, topic: str, group: str) -> None:
        """XGROUP CREATE at 0 (MKSTREAM), retried through outages; an existing group is kept."""
        key = self._config.stream_key(topic)

        async def create(client: Redis) -> None:
            try:
                await client.xgroup_create(key, group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

        await self._connection.run_with_retry(create)

    async def consume(
        self, topic: str, *, group: str, consumer: str, count: int = 100, block_ms: int = 500
    ) -> AsyncIterator[list[Delivery]]:
        if block_ms / 1000 >= self._connection.config.socket_timeout_s:
            raise ValueError(
                f"block_ms={block_ms} must stay below the socket timeout "
                f"({self._connection.config.socket_timeout_s} s)"
            )
        reader = GroupReader(
            self._connection,
            config=self._config,
            topic=topic,
            group=group,
            consumer=consumer,
            count=count,
            block_ms=block_ms,
            on_gap=self._on_gap,
        )
        failures = 0
        while not self._closed:
            try:
                batch = await reader.next_batch()
            except BusClosed:
                return
            except TRANSIENT_ERRORS as exc:
                if self._closed:
                    return
                log.warning("bus_read_failed", topic=topic, group=group, error=str(exc))
                reader.resume_after_outage()
                await self._connection.pause(failures)
                failures += 1
                yield []
                continue
            failures = 0
            yield batch

    async def ack(self, topic: str, group: str, entry_ids: Sequence[str]) -> None:
        """XACK, retried through outages. A group lost with Redis' data acknowledges nothing
        and raises nothing: those entries are gone either way."""
        if not entry_ids:
            return
        key = self._config.stream_key(topic)

        def acknowledge(client: Redis) -> Any:
            return client.xack(key, group, *entry_ids)

        await self._connection.run_with_retry(acknowledge)

    async def dead_letter(self, topic: str, group: str, delivery: Delivery, *, reason: str) -> None:
        await bury(
            self._connection,
            config=self._config,
            topic=topic,
            group=group,
            consumer="-",
            buried=[(delivery.entry_id, delivery.payload, reason, delivery.deliveries)],
        )

    async def broadcast(self, channel: str, payload: bytes) -> None:
        """PUBLISH once; when Redis is down the event is dropped (the dashboard can miss it).
        A `listen()` already started on this bus is subscribed before the publish."""
        await self._relay.wait_subscribed(channel, timeout_s=self._config.subscribe_wait_s)
        key = self._config.channel_key(channel)

        def send(client: Redis) -> Any:
            return client.publish(key, payload)

        try:
            await self._connection.attempt(send)
        except TRANSIENT_ERRORS as exc:
            log.warning("ui_event_dropped", channel=channel, error=str(exc))

    async def listen(self, channel: str) -> AsyncIterator[bytes]:
        listener = self._relay.add(channel, size=self._config.listener_queue)
        try:
            while not self._closed:
                while listener.inbox:
                    yield listener.inbox.popleft()
                listener.wake.clear()
                await listener.wake.wait()
        finally:
            self._relay.remove(listener)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._relay.close()
        await self._connection.close()
