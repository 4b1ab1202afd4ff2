"""How messages travel between services: durable streams with consumer groups, and pub/sub."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Delivery:
    """One stream entry handed to one consumer of a group; `deliveries` counts attempts."""

    topic: str
    entry_id: str
    payload: bytes
    deliveries: int = 1


class MessageBus(Protocol):
    async def publish(self, topic: str, payload: bytes) -> str:
        """Append to a durable stream; returns the entry id."""
        ...

    async def join(self, topic: str, group: str) -> None:
        """Create the consumer group now, at the start of the stream, if it does not exist:
        from here on the stream keeps every entry until this group has taken it, however late
        its consumer starts reading."""
        ...

    def consume(
        self, topic: str, *, group: str, consumer: str, count: int = 100, block_ms: int = 500
    ) -> AsyncIterator[list[Delivery]]:
        """Yield batches of entries not yet delivered to the group (and pending ones to claim)."""
        ...

    async def ack(self, topic: str, group: str, entry_ids: Sequence[str]) -> None:
        """Acknowledge entries once their effect is committed."""
        ...

    async def dead_letter(self, topic: str, group: str, delivery: Delivery, *, reason: str) -> None:
        """Move an entry no consumer can take to the topic's dead letters, with the reason,
        and acknowledge it; the other entries flow on."""
        ...

    async def broadcast(self, channel: str, payload: bytes) -> None:
        """Fire-and-forget pub/sub, only for what the dashboard can afford to miss."""
        ...

    def listen(self, channel: str) -> AsyncIterator[bytes]: ...

    async def close(self) -> None: ...
