"""Vectorized rolling-window kernels: sums, weighted sums, mean/variance, extremes.

All cut the series into blocks of the window length `n`, so the window ending at position j of
block k is the suffix of block k-1 after j plus the prefix of block k up to j. Sums then come from
in-block prefix sums (no running total over the whole series, so no drift and no cancellation
against a huge cumulative sum), extremes from in-block prefix and suffix extremes (van Herk /
Gil-Werman). Results before the first full window are NaN.
"""

from __future__ import annotations

import numpy as np

from app.indicators.blocks import as_blocks, reverse_scan_rows, scan_rows
from app.indicators.spec import FloatArray


def _nan_head(x: FloatArray, n: int) -> FloatArray | None:
    """All-NaN result when no window fits, else None."""
    if x.size < n:
        return np.full(x.size, np.nan)
    return None


def _finish(out: FloatArray, size: int, n: int) -> FloatArray:
    flat = out.reshape(-1)[:size]
    flat[: n - 1] = np.nan
    return flat


def window_sum(x: FloatArray, n: int) -> FloatArray:
    """Sum of the last `n` values."""
    short = _nan_head(x, n)
    if short is not None:
        return short
    prefix = scan_rows(as_blocks(x, n, 0.0), np.add)
    out = np.empty_like(prefix)
    out[0] = prefix[0]
    np.subtract(prefix[:-1, -1:], prefix[:-1], out=out[1:])
    out[1:] += prefix[1:]
    return _finish(out, x.size, n)


def window_weighted_sum(x: FloatArray, n: int) -> FloatArray:
    """Sum of the last `n` values weighted 1 (oldest) .. n (newest)."""
    short = _nan_head(x, n)
    if short is not None:
        return short
    a = as_blocks(x, n, 0.0)
    j = np.arange(n, dtype=np.float64)
    prefix = scan_rows(a.copy(), np.add)
    a *= j
    wprefix = scan_rows(a, np.add)
    out = np.multiply(prefix, n - j)
    out += wprefix
    tail = np.subtract(prefix[:-1], prefix[:-1, -1:])
    tail *= j
    tail += wprefix[:-1, -1:]
    tail -= wprefix[:-1]
    out[1:] += tail
    return _finish(out, x.size, n)


def window_moments(x: FloatArray, n: int) -> tuple[FloatArray, FloatArray]:
    """Mean and population variance of the last `n` values.

    Deviations are taken from a shift near the data (the first value of each block) so the
    variance never comes from subtracting two squares of the price; windows whose values are
    all equal have a variance of exactly 0.
    """
    short = _nan_head(x, n)
    if short is not None:
        return short, short.copy()
    dev = as_blocks(x, n, 0.0)
    shift = dev[:, :1].copy()
    dev -= shift
    p2 = scan_rows(np.square(dev), np.add)
    p1 = scan_rows(dev, np.add)
    if p1.shape[0] > 1:
        # Window ending at (k, j) = prefix of block k + suffix of block k-1 after j, the suffix
        # re-expressed against block k's shift: with d = shift_k - shift_{k-1} and c values,
        # sum(x - s_k) = tail1 - c d and sum((x - s_k)^2) = tail2 - 2 d tail1 + c d^2.
        count = (n - 1) - np.arange(n, dtype=np.float64)
        delta = shift[1:] - shift[:-1]
        tail1 = np.subtract(p1[:-1, -1:], p1[:-1])
        tail2 = np.subtract(p2[:-1, -1:], p2[:-1])
        scratch = np.multiply(tail1, 2.0 * delta)
        tail2 -= scratch
        np.multiply(count, delta * delta, out=scratch)
        tail2 += scratch
        np.multiply(count, delta, out=scratch)
        tail1 -= scratch
        p1[1:] += tail1
        p2[1:] += tail2
    p1 /= n
    p2 /= n
    var = _finish(p2, x.size, n)
    mean_dev = _finish(p1, x.size, n)
    var -= np.square(mean_dev)
    np.maximum(var, 0.0, out=var)
    if n > 1:
        changes = window_sum((x[1:] != x[:-1]).astype(np.float64), n - 1)
        var[1:][changes == 0.0] = 0.0
    mean_dev += _finish(np.repeat(shift, n, axis=1), x.size, n)
    return mean_dev, var


def _window_extreme(x: FloatArray, n: int, op: np.ufunc, fill: float) -> FloatArray:
    short = _nan_head(x, n)
    if short is not None:
        return short
    a = as_blocks(x, n, fill)
    prefix = scan_rows(a.copy(), op)
    suffix = reverse_scan_rows(a, op)
    out = prefix.copy()
    if n > 1:
        op(out[1:, :-1], suffix[:-1, 1:], out=out[1:, :-1])
    return _finish(out, x.size, n)


def window_max(x: FloatArray, n: int) -> FloatArray:
    """Highest of the last `n` values."""
    return _window_extreme(x, n, np.maximum, -np.inf)


def window_min(x: FloatArray, n: int) -> FloatArray:
    """Lowest of the last `n` values."""
    return _window_extreme(x, n, np.minimum, np.inf)
