"""Block layout and prefix scans, the building blocks of every vectorized kernel.

A series is cut into rows of a fixed width (the last row padded). Prefix scans then run along
each row. numpy's `accumulate` along a row is a scalar loop; for narrow rows it is several times
faster to step across the columns instead, combining whole columns at once (one vectorized
operation per column), so `scan_rows` picks that for widths up to `_COLUMN_STEP_MAX`.
"""

from __future__ import annotations

import itertools

import numpy as np

from app.indicators.arrays import IntArray
from app.indicators.spec import FloatArray

_COLUMN_STEP_MAX = 128


def as_blocks(x: FloatArray, width: int, fill: float) -> FloatArray:
    """A fresh (rows, width) copy of `x`, the last row padded with `fill`."""
    rows = -(-x.size // width)
    out = np.full(rows * width, fill, dtype=np.float64)
    out[: x.size] = x
    return out.reshape(rows, width)


def scan_rows(a: FloatArray, op: np.ufunc) -> FloatArray:
    """In-place inclusive prefix `op` (add, multiply, maximum, minimum) along each row."""
    width = a.shape[1]
    if width > _COLUMN_STEP_MAX:
        op.accumulate(a, axis=1, out=a)
        return a
    for j in range(1, width):
        op(a[:, j], a[:, j - 1], out=a[:, j])
    return a


def reverse_scan_rows(a: FloatArray, op: np.ufunc) -> FloatArray:
    """In-place inclusive suffix `op` along each row: a[k, j] = op over a[k, j:]."""
    scan_rows(a[:, ::-1], op)
    return a


def segment_cumsum(x: FloatArray, first: IntArray) -> FloatArray:
    """In place: cumulative sums along the last axis that restart at every segment (rows of `x`
    share the segmentation); returns `x`. `first[i]` is the index where the segment holding i
    starts (non-decreasing).

    One exact cumulative sum per segment: no running total crosses a segment boundary, so a
    segment's sums never inherit the rounding of the ones before it.
    """
    bounds = [*np.flatnonzero(first == np.arange(first.size)).tolist(), first.size]
    for start, end in itertools.pairwise(bounds):
        np.cumsum(x[..., start:end], axis=-1, out=x[..., start:end])
    return x
