"""RedisBus settings and key naming: every stream and channel key starts with one prefix."""

from __future__ import annotations

from dataclasses import dataclass

DEAD_LETTER_PREFIX = "dead."


@dataclass(frozen=True, slots=True)
class RedisBusConfig:
    """`prefix` namespaces every key, so deployments and tests can share one Redis.

    Streams are capped near `maxlen` (approximate MAXLEN, trimmed by whole nodes). Entries
    idle longer than `claim_min_idle_s` in a consumer's pending list are claimed by any live
    consumer, checked every `claim_interval_s` (S5: claimed within their sum). An entry about
    to be handed out for more than `max_deliveries` times goes to `dead.<topic>` (S18).
    """

    prefix: str
    maxlen: int = 100_000
    dead_letter_maxlen: int = 100_000
    max_deliveries: int = 5
    claim_interval_s: float = 2.0
    claim_min_idle_s: float = 5.0
    listener_queue: int = 1_000
    subscribe_wait_s: float = 1.0

    def __post_init__(self) -> None:
        for name in ("maxlen", "dead_letter_maxlen", "max_deliveries", "listener_queue"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("claim_interval_s", "claim_min_idle_s", "subscribe_wait_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")

    def stream_key(self, topic: str) -> str:
        return f"{self.prefix}{topic}"

    def dead_letter_key(self, topic: str) -> str:
        return f"{self.prefix}{DEAD_LETTER_PREFIX}{topic}"

    def channel_key(self, channel: str) -> str:
        return f"{self.prefix}{channel}"
