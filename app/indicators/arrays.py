"""BarArrays: one symbol's bars as columns, the input of every batch computation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from app.domain.market import Bar
from app.indicators.spec import Field, FloatArray

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class BarArrays:
    """Bars of one symbol in time order: `ts` (bucket start, int ns since the epoch, UTC) and
    float64 open/high/low/close/volume, all the same length.

    The constructor copies into contiguous read-only arrays and checks the shape, that every
    value is finite and that timestamps never go backwards, so a batch run cannot be fed
    something it would silently misread.
    """

    ts: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray

    def __post_init__(self) -> None:
        ts = np.array(self.ts, dtype=np.int64, copy=True).reshape(-1)
        object.__setattr__(self, "ts", ts)
        for name in ("open", "high", "low", "close", "volume"):
            column = np.array(getattr(self, name), dtype=np.float64, copy=True)
            if column.ndim != 1 or column.size != ts.size:
                raise ValueError(f"{name} has shape {column.shape}, expected ({ts.size},)")
            if not np.isfinite(column).all():
                raise ValueError(f"{name} has non-finite values")
            column.flags.writeable = False
            object.__setattr__(self, name, column)
        if ts.size > 1 and bool((np.diff(ts) < 0).any()):
            raise ValueError("timestamps go backwards")
        ts.flags.writeable = False

    def __len__(self) -> int:
        return int(self.ts.size)

    def field(self, name: Field) -> FloatArray:
        column: FloatArray = getattr(self, name)
        return column

    @classmethod
    def from_bars(cls, bars: Sequence[Bar]) -> BarArrays:
        return cls(
            ts=np.fromiter((b.ts_ns for b in bars), dtype=np.int64, count=len(bars)),
            open=np.fromiter((b.open for b in bars), dtype=np.float64, count=len(bars)),
            high=np.fromiter((b.high for b in bars), dtype=np.float64, count=len(bars)),
            low=np.fromiter((b.low for b in bars), dtype=np.float64, count=len(bars)),
            close=np.fromiter((b.close for b in bars), dtype=np.float64, count=len(bars)),
            volume=np.fromiter((b.volume for b in bars), dtype=np.float64, count=len(bars)),
        )
