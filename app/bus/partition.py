"""Which shard owns a symbol. Router and workers are given the same partitioner by bootstrap,
so they agree by construction."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Protocol

from app.bus.topics import shard_of


class Partitioner(Protocol):
    @property
    def shard_count(self) -> int: ...

    def shard_of(self, symbol: str) -> int: ...


class JumpHashPartitioner:
    """The default: a jump consistent hash of a stable hash; growing N moves ~1/(N+1) symbols."""

    def __init__(self, shard_count: int) -> None:
        if shard_count < 1:
            raise ValueError(f"shard_count must be positive, got {shard_count}")
        self._count = shard_count

    @property
    def shard_count(self) -> int:
        return self._count

    def shard_of(self, symbol: str) -> int:
        return shard_of(symbol, self._count)


class SymbolRangePartitioner:
    """Contiguous alphabetical ranges: with bounds ("F", "M", "T") shard 0 owns symbols before
    "F", shard 1 from "F" up to "M", and so on; useful to keep known names together."""

    def __init__(self, bounds: Sequence[str]) -> None:
        ordered = [bound.upper() for bound in bounds]
        if ordered != sorted(set(ordered)) or any(not bound for bound in ordered):
            raise ValueError(f"range bounds must be distinct, non-empty and sorted: {bounds!r}")
        self._bounds = ordered

    @property
    def shard_count(self) -> int:
        return len(self._bounds) + 1

    def shard_of(self, symbol: str) -> int:
        return bisect.bisect_right(self._bounds, symbol.upper())
