"""Where recorded ticks live: Parquet embedded, QuestDB in the cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from typing import Protocol

from app.domain.market import Tick


class TickStore(Protocol):
    async def write(self, ticks: Sequence[Tick]) -> None:
        """Persist ticks; writing the same tick twice keeps one (dedup on symbol, ts, seq)."""
        ...

    def read(
        self, *, start_ns: int, end_ns: int, symbols: Collection[str] | None = None
    ) -> AsyncIterator[list[Tick]]:
        """Ticks with start_ns <= ts < end_ns in time order, in batches."""
        ...

    async def flush(self) -> None:
        """Make everything written so far durable (and visible to reads)."""
        ...

    async def close(self) -> None:
        """Flush what is buffered and release resources."""
        ...
