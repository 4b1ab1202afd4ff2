"""Bars of many symbols in replay order, read from the bar file `trader indicators` also reads.

The file is parquet with the columns symbol, ts, open, high, low, close, volume; `ts` is the bar
start, as int ns since the epoch or a timestamp column. Every row is checked once here (prices
finite and positive, high and low bracketing open and close, volume not negative, starts on the
interval grid, no symbol with two bars at one start), so the replay never meets a bar it would
misread.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from app.domain.calendar import local_time_ns

BAR_COLUMNS = ("symbol", "ts", "open", "high", "low", "close", "volume")
NS = 1_000_000_000

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class BarFileError(ValueError):
    """The bar file is missing, unreadable or holds bars the replay cannot use."""


@dataclass(frozen=True, slots=True)
class BarRow:
    """One bar as the replay hands it out (plain floats: market data, not money)."""

    symbol: str
    ts_ns: int
    open: float
    high: float
    low: float
    close: float
    volume: int


@dataclass(frozen=True, slots=True, eq=False)
class BarTable:
    """Bars sorted by start, then symbol; `code` indexes `names`. Built by `BarTable.of`."""

    names: tuple[str, ...]
    code: npt.NDArray[np.int32]
    ts: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: IntArray
    interval_s: int

    @classmethod
    def of(
        cls,
        *,
        symbols: list[str],
        ts: IntArray,
        open_: FloatArray,
        high: FloatArray,
        low: FloatArray,
        close: FloatArray,
        volume: IntArray,
        interval_s: int,
    ) -> BarTable:
        """Check the columns and sort them into replay order; raises BarFileError."""
        n = len(symbols)
        columns = {"ts": ts, "open": open_, "high": high, "low": low, "close": close}
        for name, column in {**columns, "volume": volume}.items():
            if column.shape != (n,):
                raise BarFileError(f"{name} has {column.shape[0]} rows, symbol has {n}")
        _check_values(open_, high, low, close, volume)
        if interval_s <= 0:
            raise BarFileError(f"the bar interval must be positive, got {interval_s}s")
        off_grid = np.flatnonzero(ts % (interval_s * NS))
        if off_grid.size:
            row = int(off_grid[0])
            raise BarFileError(
                f"{symbols[row]} bar at ts {int(ts[row])} does not start on the "
                f"{interval_s}s grid: is the interval right?"
            )
        names, codes = np.unique(np.asarray(symbols, dtype=object), return_inverse=True)
        code = codes.astype(np.int32)
        order = np.lexsort((code, ts))
        table = cls(
            names=tuple(str(name) for name in names),
            code=code[order],
            ts=np.ascontiguousarray(ts[order], dtype=np.int64),
            open=np.ascontiguousarray(open_[order], dtype=np.float64),
            high=np.ascontiguousarray(high[order], dtype=np.float64),
            low=np.ascontiguousarray(low[order], dtype=np.float64),
            close=np.ascontiguousarray(close[order], dtype=np.float64),
            volume=np.ascontiguousarray(volume[order], dtype=np.int64),
            interval_s=interval_s,
        )
        repeated = np.flatnonzero((np.diff(table.ts) == 0) & (np.diff(table.code) == 0))
        if repeated.size:
            row = int(repeated[0])
            raise BarFileError(
                f"{table.names[table.code[row]]} has two bars starting at ts {int(table.ts[row])}"
            )
        return table

    def __len__(self) -> int:
        return int(self.ts.size)

    def between(self, first: dt.date | None, last: dt.date | None) -> BarTable:
        """The bars whose New York date is within [first, last] (None: unbounded)."""
        lo = 0 if first is None else np.searchsorted(self.ts, local_time_ns(first, 0), "left")
        hi = (
            len(self)
            if last is None
            else np.searchsorted(self.ts, local_time_ns(last + dt.timedelta(days=1), 0), "left")
        )
        return self.take(np.arange(int(lo), int(hi)))

    def take(self, rows: npt.NDArray[np.intp]) -> BarTable:
        """A table of these rows (already in replay order)."""
        return BarTable(
            names=self.names,
            code=self.code[rows],
            ts=self.ts[rows],
            open=self.open[rows],
            high=self.high[rows],
            low=self.low[rows],
            close=self.close[rows],
            volume=self.volume[rows],
            interval_s=self.interval_s,
        )

    def with_prices(
        self,
        *,
        open_: FloatArray,
        high: FloatArray,
        low: FloatArray,
        close: FloatArray,
        volume: IntArray,
    ) -> BarTable:
        """The same bars with new prices and volumes (split adjustment)."""
        return BarTable(
            names=self.names,
            code=self.code,
            ts=self.ts,
            open=open_,
            high=high,
            low=low,
            close=close,
            volume=volume,
            interval_s=self.interval_s,
        )

    def symbol_rows(self, symbol: str) -> npt.NDArray[np.intp]:
        """Row numbers of one symbol's bars (empty when it has none)."""
        if symbol not in self.names:
            return np.arange(0)
        return np.flatnonzero(self.code == self.names.index(symbol))

    def steps(self) -> Iterator[tuple[int, list[BarRow]]]:
        """(start, the bars starting then) for each distinct start, in time order."""
        if not len(self):
            return
        cuts = np.flatnonzero(np.diff(self.ts)) + 1
        bounds = [0, *cuts.tolist(), len(self)]
        names = self.names
        ts, codes = self.ts.tolist(), self.code.tolist()
        opens, highs = self.open.tolist(), self.high.tolist()
        lows, closes, volumes = self.low.tolist(), self.close.tolist(), self.volume.tolist()
        for lo, hi in itertools.pairwise(bounds):
            start = ts[lo]
            yield (
                start,
                [
                    BarRow(
                        names[codes[i]], start, opens[i], highs[i], lows[i], closes[i], volumes[i]
                    )
                    for i in range(lo, hi)
                ],
            )


def _check_values(
    open_: FloatArray, high: FloatArray, low: FloatArray, close: FloatArray, volume: IntArray
) -> None:
    for name, column in (("open", open_), ("high", high), ("low", low), ("close", close)):
        bad = np.flatnonzero(~np.isfinite(column) | (column <= 0))
        if bad.size:
            raise BarFileError(f"{name} must be finite and positive (row {int(bad[0])})")
    bad = np.flatnonzero((high < np.maximum(open_, close)) | (low > np.minimum(open_, close)))
    if bad.size:
        raise BarFileError(f"high/low do not bracket open/close (row {int(bad[0])})")
    bad = np.flatnonzero(volume < 0)
    if bad.size:
        raise BarFileError(f"volume must not be negative (row {int(bad[0])})")


def read_bar_file(path: Path, *, interval_s: int) -> BarTable:
    """Read and check a bar file; raises BarFileError saying what is wrong."""
    if not path.is_file():
        raise BarFileError(f"no such file: {path}")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as err:
        raise BarFileError(f"cannot read {path} as parquet: {err}") from None
    missing = [name for name in BAR_COLUMNS if name not in table.column_names]
    if missing:
        raise BarFileError(
            f"{path} lacks column(s) {', '.join(missing)}; needs {', '.join(BAR_COLUMNS)}"
        )
    for name in BAR_COLUMNS:
        if table.column(name).null_count:
            raise BarFileError(f"{name} has nulls")
    return BarTable.of(
        symbols=[str(s) for s in table.column("symbol").cast(pa.string()).to_pylist()],
        ts=_timestamps_ns(table.column("ts")),
        open_=_numbers(table, "open", pa.float64(), np.float64),
        high=_numbers(table, "high", pa.float64(), np.float64),
        low=_numbers(table, "low", pa.float64(), np.float64),
        close=_numbers(table, "close", pa.float64(), np.float64),
        volume=_numbers(table, "volume", pa.int64(), np.int64),
        interval_s=interval_s,
    )


def write_bar_file(path: Path, table: BarTable) -> None:
    """Write bars in the file format `read_bar_file` reads (tests and the benchmark use it)."""
    pq.write_table(
        pa.table(
            {
                "symbol": pa.array([table.names[c] for c in table.code.tolist()], pa.string()),
                "ts": pa.array(table.ts, pa.int64()),
                "open": pa.array(table.open, pa.float64()),
                "high": pa.array(table.high, pa.float64()),
                "low": pa.array(table.low, pa.float64()),
                "close": pa.array(table.close, pa.float64()),
                "volume": pa.array(table.volume, pa.int64()),
            }
        ),
        path,
    )


def _timestamps_ns(column: pa.ChunkedArray) -> IntArray:
    if pa.types.is_timestamp(column.type):
        column = pc.cast(column, pa.timestamp("ns", tz=column.type.tz))
    elif not pa.types.is_integer(column.type):
        raise BarFileError(f"ts must be int ns or a timestamp, not {column.type}")
    return np.asarray(pc.cast(column, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _numbers(table: pa.Table, name: str, arrow_type: Any, numpy_type: Any) -> Any:
    try:
        column = pc.cast(table.column(name), arrow_type)
    except pa.ArrowException as err:
        raise BarFileError(f"{name} is not numeric: {err}") from None
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=numpy_type)
