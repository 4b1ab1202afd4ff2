"""Correlation of two symbols' recent 1-minute returns, aligned on bar time."""

from __future__ import annotations

import math

from app.domain.signal import Signal

_MINUTE_NS = 60_000_000_000


def aligned_correlation(a: Signal, b: Signal, *, min_points: int) -> float | None:
    """Pearson correlation of the returns both signals carry for the same minutes, or None
    when they share fewer than `min_points` minutes or either series is flat.

    A signal's returns end at the minute its bar closed; minute i of the series (oldest first)
    ends `len - 1 - i` minutes earlier.
    """
    shift = (a.ts_ns - b.ts_ns) // _MINUTE_NS  # how many minutes a's series ends after b's
    xs: list[float] = []
    ys: list[float] = []
    for i, x in enumerate(a.returns):
        j = i + len(b.returns) - len(a.returns) + shift
        if 0 <= j < len(b.returns):
            xs.append(x)
            ys.append(b.returns[j])
    if len(xs) < min_points:
        return None
    return _pearson(xs, ys)


def _pearson(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx <= 0 or syy <= 0:
        return None
    return sxy / math.sqrt(sxx * syy)
