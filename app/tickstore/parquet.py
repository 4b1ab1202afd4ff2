"""The embedded TickStore: Parquet files partitioned by New York trading date.

Layout: `root/date=YYYY-MM-DD/part-NNNNNN-<digest>.parquet`, one file per date per flush, written
to a hidden temporary file, synced, then moved into place with `os.replace`, so a reader never
sees half a file. Part numbers grow in write order, which is what makes "the first write of a
(symbol, ts_ns, seq) wins" hold on read; the content digest keeps two writers from ever
replacing each other's files. One writer per root is the intended use.

Blocking file work runs in a thread (asyncio.to_thread).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
from collections.abc import AsyncIterator, Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from app.domain.calendar import local_time_ns, trading_day
from app.domain.market import Tick

READ_BATCH = 10_000
SCHEMA = pa.schema(
    [
        ("symbol", pa.string()),
        ("ts_ns", pa.int64()),
        ("price", pa.float64()),
        ("size", pa.int64()),
        ("seq", pa.int64()),
    ]
)
_TIME_ORDER = [("ts_ns", "ascending"), ("symbol", "ascending"), ("seq", "ascending")]
_DIR_PREFIX = "date="
_PART_PREFIX = "part-"
_SUFFIX = ".parquet"


def _ticks_to_table(ticks: Sequence[Tick]) -> Any:
    table = pa.table(
        [
            pa.array([t.symbol for t in ticks], pa.string()),
            pa.array([t.ts_ns for t in ticks], pa.int64()),
            pa.array([t.price for t in ticks], pa.float64()),
            pa.array([t.size for t in ticks], pa.int64()),
            pa.array([t.seq for t in ticks], pa.int64()),
        ],
        schema=SCHEMA,
    )
    return table.take(pc.sort_indices(table, sort_keys=_TIME_ORDER))


def _table_to_ticks(table: Any) -> list[Tick]:
    columns = [table.column(name).to_pylist() for name in SCHEMA.names]
    return [Tick(*row) for row in zip(*columns, strict=True)]


def _day_slices(ts: np.ndarray[Any, np.dtype[np.int64]]) -> Iterator[tuple[dt.date, int, int]]:
    """Split time-sorted timestamps into runs of one New York date each."""
    start = 0
    while start < len(ts):
        day = trading_day(int(ts[start]))
        next_midnight = local_time_ns(day + dt.timedelta(days=1), 0)
        stop = int(np.searchsorted(ts, next_midnight, side="left"))
        yield day, start, stop
        start = stop


def _digest(table: Any) -> str:
    h = hashlib.blake2b(digest_size=6)
    h.update("\n".join(table.column("symbol").to_pylist()).encode())
    for name in ("ts_ns", "price", "size", "seq"):
        h.update(table.column(name).to_numpy().tobytes())
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _part_number(path: Path) -> int:
    return int(path.name[len(_PART_PREFIX) :].split("-", 1)[0])


def _drop_repeated_keys(table: Any) -> Any:
    """Keep the first row of each run of equal (symbol, ts_ns, seq) in a time-sorted table."""
    n = table.num_rows
    if n < 2:
        return table
    symbols = table.column("symbol").combine_chunks()
    ts = table.column("ts_ns").to_numpy()
    seq = table.column("seq").to_numpy()
    same_symbol = pc.equal(symbols.slice(1), symbols.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    repeated = same_symbol & (ts[1:] == ts[:-1]) & (seq[1:] == seq[:-1])
    if not repeated.any():
        return table
    keep = np.concatenate(([True], ~repeated))
    return table.filter(pa.array(keep))


class ParquetTickStore:
    """A TickStore on local Parquet files; buffered, flushed every `flush_rows` ticks."""

    __slots__ = (
        "_batch_size",
        "_buffer",
        "_closed",
        "_flush_lock",
        "_flush_rows",
        "_next_part",
        "_root",
    )

    def __init__(
        self, root: Path, *, flush_rows: int = 50_000, batch_size: int = READ_BATCH
    ) -> None:
        if flush_rows < 1 or batch_size < 1:
            raise ValueError("flush_rows and batch_size must be positive")
        self._root = root
        self._flush_rows = flush_rows
        self._batch_size = batch_size
        self._buffer: list[Tick] = []
        self._next_part: dict[Path, int] = {}
        self._flush_lock = asyncio.Lock()
        self._closed = False

    async def write(self, ticks: Sequence[Tick]) -> None:
        if self._closed:
            raise RuntimeError("the tick store is closed")
        self._buffer.extend(ticks)
        if len(self._buffer) >= self._flush_rows:
            await self.flush()

    async def flush(self) -> None:
        """Write what is buffered, one new file per trading date."""
        async with self._flush_lock:
            rows, self._buffer = self._buffer, []
            if not rows:
                return
            try:
                await asyncio.to_thread(self._write_files, rows)
            except BaseException:
                self._buffer[:0] = rows
                raise

    async def read(
        self, *, start_ns: int, end_ns: int, symbols: Collection[str] | None = None
    ) -> AsyncIterator[list[Tick]]:
        """Ticks with start_ns <= ts < end_ns in time order (ties by symbol, seq), in batches.

        Buffered ticks are flushed first, so a read sees every completed write.
        """
        if end_ns <= start_ns:
            return
        await self.flush()
        wanted = sorted(set(symbols)) if symbols is not None else None
        if wanted is not None and not wanted:
            return
        days = await asyncio.to_thread(self._day_dirs, start_ns, end_ns)
        for day_dir in days:
            table = await asyncio.to_thread(self._read_day, day_dir, start_ns, end_ns, wanted)
            for offset in range(0, table.num_rows, self._batch_size):
                part = table.slice(offset, self._batch_size)
                yield await asyncio.to_thread(_table_to_ticks, part)

    async def close(self) -> None:
        """Flush the buffer; later writes raise, reads still work."""
        await self.flush()
        self._closed = True

    def _write_files(self, rows: list[Tick]) -> None:
        table = _ticks_to_table(rows)
        ts = table.column("ts_ns").to_numpy()
        for day, start, stop in _day_slices(ts):
            self._write_file(
                self._root / f"{_DIR_PREFIX}{day.isoformat()}", table.slice(start, stop - start)
            )

    def _write_file(self, day_dir: Path, table: Any) -> None:
        day_dir.mkdir(parents=True, exist_ok=True)
        part = self._next_part.get(day_dir)
        if part is None:
            existing = [_part_number(p) for p in day_dir.glob(f"{_PART_PREFIX}*{_SUFFIX}")]
            part = max(existing, default=0) + 1
        self._next_part[day_dir] = part + 1
        name = f"{_PART_PREFIX}{part:06d}-{_digest(table)}{_SUFFIX}"
        tmp = day_dir / f".{name}.tmp"
        with tmp.open("wb") as sink:
            pq.write_table(table, sink, compression="zstd")
            sink.flush()
            os.fsync(sink.fileno())
        tmp.replace(day_dir / name)
        _fsync_dir(day_dir)

    def _day_dirs(self, start_ns: int, end_ns: int) -> list[Path]:
        if not self._root.is_dir():
            return []
        first, last = trading_day(start_ns), trading_day(end_ns - 1)
        found: list[tuple[dt.date, Path]] = []
        for path in self._root.iterdir():
            if not (path.is_dir() and path.name.startswith(_DIR_PREFIX)):
                continue
            try:
                day = dt.date.fromisoformat(path.name[len(_DIR_PREFIX) :])
            except ValueError:
                continue
            if first <= day <= last:
                found.append((day, path))
        return [path for _, path in sorted(found)]

    def _read_day(
        self, day_dir: Path, start_ns: int, end_ns: int, symbols: list[str] | None
    ) -> Any:
        files = sorted(
            day_dir.glob(f"{_PART_PREFIX}*{_SUFFIX}"), key=lambda p: (_part_number(p), p.name)
        )
        filters: list[tuple[str, str, Any]] = [("ts_ns", ">=", start_ns), ("ts_ns", "<", end_ns)]
        if symbols is not None:
            filters.append(("symbol", "in", symbols))
        tables = [pq.read_table(path, schema=SCHEMA, filters=filters) for path in files]
        if not tables:
            return SCHEMA.empty_table()
        table = pa.concat_tables(tables)
        table = table.take(pc.sort_indices(table, sort_keys=_TIME_ORDER))
        return _drop_repeated_keys(table)
