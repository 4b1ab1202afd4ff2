"""Every topic and channel name, and the one stable function that routes a symbol to a shard."""

from __future__ import annotations

import hashlib

SIGNALS = "signals"
LOTS = "lots"
UI_EVENTS = "ui.events"

_JUMP_MULTIPLIER = 2862933555777941757
_TWO_POW_31 = float(1 << 31)
_MASK64 = (1 << 64) - 1


def ticks_topic(shard: int) -> str:
    return f"ticks.{shard}"


def stable_hash(symbol: str) -> int:
    """A 64-bit hash that is the same in every process (unlike the built-in hash of a str)."""
    return int.from_bytes(hashlib.blake2b(symbol.encode(), digest_size=8).digest(), "little")


def jump_hash(key: int, buckets: int) -> int:
    """Lamping-Veach jump consistent hash: growing N to N+1 buckets moves only 1/(N+1) of keys."""
    if buckets <= 0:
        raise ValueError(f"bucket count must be positive, got {buckets}")
    b, j = -1, 0
    while j < buckets:
        b = j
        key = (key * _JUMP_MULTIPLIER + 1) & _MASK64
        j = int((b + 1) * (_TWO_POW_31 / float((key >> 33) + 1)))
    return b


def shard_of(symbol: str, shard_count: int) -> int:
    """The shard that owns a symbol; router and workers call this same function."""
    return jump_hash(stable_hash(symbol), shard_count)
