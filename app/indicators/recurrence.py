"""Vectorized first-order linear recurrences: y[t] = a[t] * y[t-1] + b[t].

This is the batch form of every recursive smoother (EMA, Wilder's RSI/ATR/ADX averages). The
series is cut into blocks; inside a block the closed form

    y[j] = P[j] * (y_in + sum_{i <= j} b[i] / P[i]),   P[j] = a[0] * ... * a[j]

is a prefix product and a prefix sum, so each block starts from a zero carry and all blocks are
solved at once. The carries between blocks obey the same recurrence one level up (coefficient
P[last] per block), solved the same way until it is short enough for a plain loop. Blocks are
kept short enough that 1/P stays far from overflow (below 1e150), so nothing is lost to range.
"""

from __future__ import annotations

import math

import numpy as np

from app.indicators.blocks import as_blocks, scan_rows
from app.indicators.spec import FloatArray

_LOG_RANGE = 345.0  # ln(1e150): how far 1/P may grow inside one block
_BLOCK = 64
_SEQUENTIAL_MAX = 64


def _sequential(b: FloatArray, a: FloatArray | float, y0: float) -> FloatArray:
    out = np.empty(b.size)
    coef = np.broadcast_to(np.asarray(a, dtype=np.float64), b.shape).tolist()
    y = y0
    for t, (c, x) in enumerate(zip(coef, b.tolist(), strict=True)):
        y = c * y + x
        out[t] = y
    return out


def _width(smallest: float) -> int:
    if smallest >= 1.0:
        return _BLOCK
    return min(_BLOCK, int(_LOG_RANGE / -math.log(smallest)))


def decay_filter(b: FloatArray, a: float, y0: float) -> FloatArray:
    """y[t] = a * y[t-1] + b[t] with y[-1] = y0, for a constant 0 <= a <= 1."""
    if a == 0.0:
        return np.array(b, dtype=np.float64, copy=True)
    width = _width(a)
    if b.size <= _SEQUENTIAL_MAX or width < 2:
        return _sequential(b, a, y0)
    j = np.arange(width, dtype=np.float64)
    decay = np.power(a, j)
    grow = np.power(a, -j)
    local = as_blocks(b, width, 0.0)
    local *= grow
    scan_rows(local, np.add)
    local *= decay
    carry_in = np.empty(local.shape[0])
    carry_in[0] = y0
    carry_in[1:] = decay_filter(local[:-1, -1], a**width, y0)
    local += (a * decay) * carry_in[:, None]
    return local.reshape(-1)[: b.size]


def gated_filter(b: FloatArray, a: FloatArray, y0: float) -> FloatArray:
    """y[t] = a[t] * y[t-1] + b[t] with y[-1] = y0, for per-step coefficients 0 < a[t] <= 1."""
    width = _width(float(a.min())) if a.size else _BLOCK
    if b.size <= _SEQUENTIAL_MAX or width < 2:
        return _sequential(b, a, y0)
    prod = scan_rows(as_blocks(a, width, 1.0), np.multiply)
    local = as_blocks(b, width, 0.0)
    local /= prod
    scan_rows(local, np.add)
    local *= prod
    carry_in = np.empty(local.shape[0])
    carry_in[0] = y0
    carry_in[1:] = gated_filter(local[:-1, -1], prod[:-1, -1], y0)
    local += prod * carry_in[:, None]
    return local.reshape(-1)[: b.size]
