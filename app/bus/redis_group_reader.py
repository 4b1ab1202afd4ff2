"""One consumer's reads from one consumer group of one Redis stream.

Order of business on every call: this consumer's own pending entries (after a start or an
outage, since a read whose reply was lost leaves entries pending that nobody has seen), then,
when due, entries idle too long in any consumer's pending list (XAUTOCLAIM, S5), then new
entries with a blocking read. Entries about to be handed out for more than `max_deliveries`
times, and pending entries whose data was trimmed, go to the dead-letter stream and are
acknowledged instead (S18).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from redis.typing import EncodableT, FieldT

from app.bus.connection import RedisConnectionManager
from app.bus.redis_bus_config import RedisBusConfig
from app.ports.bus import Delivery

GapHandler = Callable[[str, str], None]
"""Called with (topic, group) when a group vanished mid-run (Redis lost its data): the
entries in flight may be gone, so whoever owns the data reconciles."""

PAYLOAD_FIELD = b"p"
_START = "0-0"
_TRIMMED = "entry trimmed from the stream before it was acknowledged"

log = structlog.get_logger()

Entry = tuple[bytes, dict[bytes, bytes]]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _is_missing_group(error: ResponseError) -> bool:
    """NOGROUP, or UNBLOCKED: a blocked read whose stream or group was deleted under it."""
    message = str(error)
    return "NOGROUP" in message or message.startswith("UNBLOCKED")


class GroupReader:
    def __init__(
        self,
        connection: RedisConnectionManager,
        *,
        config: RedisBusConfig,
        topic: str,
        group: str,
        consumer: str,
        count: int,
        block_ms: int,
        on_gap: GapHandler | None = None,
    ) -> None:
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        self._connection = connection
        self._config = config
        self._topic = topic
        self._key = config.stream_key(topic)
        self._group = group
        self._consumer = consumer
        self._count = count
        self._block_ms: int | None = block_ms if block_ms > 0 else None
        self._on_gap = on_gap
        self._group_ready = False
        self._group_lost = False
        self._pending_from: str | None = _START
        self._claim_from = _START
        self._claim_at = 0.0

    def resume_after_outage(self) -> None:
        """Re-read this consumer's pending entries next: replies lost in the outage left some."""
        self._pending_from = _START

    async def next_batch(self) -> list[Delivery]:
        """One batch, possibly empty. Raises connection errors for the caller to back off on."""
        try:
            if not self._group_ready:
                await self._create_group()
            return await self._read()
        except ResponseError as exc:
            if not _is_missing_group(exc):
                raise
            self._group_ready = False
            self._group_lost = True
            log.warning("consumer_group_missing", topic=self._topic, group=self._group)
            return []

    async def _create_group(self) -> None:
        async def create(client: Redis) -> None:
            try:
                await client.xgroup_create(self._key, self._group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

        await self._connection.attempt(create)
        self._group_ready = True
        self._pending_from = _START
        self._claim_from = _START
        if self._group_lost:
            self._group_lost = False
            log.warning("consumer_group_recreated", topic=self._topic, group=self._group)
            if self._on_gap is not None:
                self._on_gap(self._topic, self._group)

    async def _read(self) -> list[Delivery]:
        while self._pending_from is not None:
            found = await self._read_own_pending(self._pending_from)
            if found:
                return found
        if self._claim_due():
            found = await self._claim()
            if found:
                return found
        return await self._read_new()

    def _claim_due(self) -> bool:
        return self._claim_from != _START or asyncio.get_running_loop().time() >= self._claim_at

    async def _read_own_pending(self, after: str) -> list[Delivery]:
        def read(client: Redis) -> Any:
            return client.xreadgroup(
                self._group, self._consumer, {self._key: after}, count=self._count
            )

        entries = self._entries(await self._connection.attempt(read))
        if not entries:
            self._pending_from = None
            return []
        self._pending_from = _text(entries[-1][0])
        return await self._deliver_redelivered(entries, trimmed=[])

    async def _claim(self) -> list[Delivery]:
        idle_ms = int(self._config.claim_min_idle_s * 1000)

        def claim(client: Redis) -> Any:
            return client.xautoclaim(
                self._key,
                self._group,
                self._consumer,
                idle_ms,
                start_id=self._claim_from,
                count=self._count,
            )

        reply = await self._connection.attempt(claim)
        self._claim_from = _text(reply[0])
        if self._claim_from == _START:
            self._claim_at = asyncio.get_running_loop().time() + self._config.claim_interval_s
        entries: list[Entry] = list(reply[1])
        trimmed: list[bytes] = list(reply[2]) if len(reply) > 2 else []
        if entries:
            log.info("bus_entries_claimed", topic=self._topic, group=self._group, n=len(entries))
        return await self._deliver_redelivered(entries, trimmed=trimmed)

    async def _read_new(self) -> list[Delivery]:
        def read(client: Redis) -> Any:
            return client.xreadgroup(
                self._group,
                self._consumer,
                {self._key: ">"},
                count=self._count,
                block=self._block_ms,
            )

        entries = self._entries(await self._connection.attempt(read))
        return [Delivery(self._topic, _text(i), f.get(PAYLOAD_FIELD, b""), 1) for i, f in entries]

    @staticmethod
    def _entries(reply: Any) -> list[Entry]:
        if not reply:
            return []
        return list(reply[0][1])

    async def _deliver_redelivered(
        self, entries: Sequence[Entry], *, trimmed: Sequence[bytes]
    ) -> list[Delivery]:
        """Deliveries for entries handed out before, with their delivery counts; the ones over
        the limit or without data are dead-lettered and acknowledged instead."""
        counts = await self._delivery_counts([entry_id for entry_id, _ in entries])
        deliveries: list[Delivery] = []
        buried: list[tuple[str, bytes, str, int]] = [(_text(i), b"", _TRIMMED, 0) for i in trimmed]
        for raw_id, fields in entries:
            entry_id = _text(raw_id)
            times = counts.get(entry_id)
            if times is None:
                continue  # acknowledged by someone since we read it
            payload = fields.get(PAYLOAD_FIELD)
            if payload is None:
                buried.append((entry_id, b"", _TRIMMED, times))
            elif times > self._config.max_deliveries:
                reason = f"delivered {times} times, limit {self._config.max_deliveries}"
                buried.append((entry_id, payload, reason, times))
            else:
                deliveries.append(Delivery(self._topic, entry_id, payload, times))
        if buried:
            await self._bury(buried)
        return deliveries

    async def _delivery_counts(self, entry_ids: Sequence[bytes]) -> dict[str, int]:
        if not entry_ids:
            return {}

        async def pending(client: Redis) -> list[Any]:
            pipe = client.pipeline(transaction=False)
            for entry_id in entry_ids:
                pipe.xpending_range(self._key, self._group, min=entry_id, max=entry_id, count=1)
            return await pipe.execute()

        replies = await self._connection.attempt(pending)
        return {
            _text(row["message_id"]): int(row["times_delivered"])
            for reply in replies
            for row in reply
        }

    async def _bury(self, buried: Sequence[tuple[str, bytes, str, int]]) -> None:
        await bury(
            self._connection,
            config=self._config,
            topic=self._topic,
            group=self._group,
            consumer=self._consumer,
            buried=buried,
        )


async def bury(
    connection: RedisConnectionManager,
    *,
    config: RedisBusConfig,
    topic: str,
    group: str,
    consumer: str,
    buried: Sequence[tuple[str, bytes, str, int]],
) -> None:
    """Move (entry id, payload, reason, deliveries) to the topic's dead letters, then
    acknowledge them: a crash between the two duplicates a dead letter rather than losing one."""
    dead_key = config.dead_letter_key(topic)
    key = config.stream_key(topic)

    async def move(client: Redis) -> list[Any]:
        pipe = client.pipeline(transaction=False)
        for entry_id, payload, reason, times in buried:
            fields: dict[FieldT, EncodableT] = {
                "payload": payload,
                "reason": reason,
                "id": entry_id,
                "group": group,
                "consumer": consumer,
                "deliveries": times,
            }
            pipe.xadd(dead_key, fields, maxlen=config.dead_letter_maxlen)
        pipe.xack(key, group, *(entry_id for entry_id, *_ in buried))
        return await pipe.execute()

    await connection.attempt(move)
    for entry_id, _, reason, times in buried:
        log.error(
            "bus_entry_dead_lettered",
            topic=topic,
            group=group,
            entry=entry_id,
            deliveries=times,
            reason=reason,
        )
