"""An in-memory TickStore for tests and backtests: same semantics as the Parquet store."""

from __future__ import annotations

import bisect
from collections.abc import AsyncIterator, Collection, Sequence

from app.domain.market import Tick

READ_BATCH = 10_000

_TickKey = tuple[str, int, int]


def _time_order(tick: Tick) -> tuple[int, str, int]:
    return (tick.ts_ns, tick.symbol, tick.seq)


class MemoryTickStore:
    """Ticks deduplicated on (symbol, ts_ns, seq), the first written kept; read in time order."""

    __slots__ = ("_batch_size", "_by_key", "_closed", "_ordered", "_ordered_ts")

    def __init__(self, *, batch_size: int = READ_BATCH) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        self._batch_size = batch_size
        self._by_key: dict[_TickKey, Tick] = {}
        self._ordered: list[Tick] | None = []
        self._ordered_ts: list[int] = []
        self._closed = False

    async def write(self, ticks: Sequence[Tick]) -> None:
        if self._closed:
            raise RuntimeError("the tick store is closed")
        for tick in ticks:
            key = (tick.symbol, tick.ts_ns, tick.seq)
            if key not in self._by_key:
                self._by_key[key] = tick
                self._ordered = None

    async def read(
        self, *, start_ns: int, end_ns: int, symbols: Collection[str] | None = None
    ) -> AsyncIterator[list[Tick]]:
        """Ticks with start_ns <= ts < end_ns in time order (ties by symbol, seq), in batches."""
        ordered = self._time_ordered()
        wanted = frozenset(symbols) if symbols is not None else None
        lo = bisect.bisect_left(self._ordered_ts, start_ns)
        hi = bisect.bisect_left(self._ordered_ts, end_ns, lo=lo)
        batch: list[Tick] = []
        for tick in ordered[lo:hi]:
            if wanted is None or tick.symbol in wanted:
                batch.append(tick)
                if len(batch) == self._batch_size:
                    yield batch
                    batch = []
        if batch:
            yield batch

    async def flush(self) -> None:
        """Writes are visible at once; there is nothing further to make durable in memory."""

    async def close(self) -> None:
        self._closed = True

    def _time_ordered(self) -> list[Tick]:
        if self._ordered is None:
            self._ordered = sorted(self._by_key.values(), key=_time_order)
            self._ordered_ts = [tick.ts_ns for tick in self._ordered]
        return self._ordered
