"""The vectorized kernels against plain loops: rolling windows and linear recurrences."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from app.indicators.blocks import segment_cumsum
from app.indicators.recurrence import decay_filter, gated_filter
from app.indicators.rolling import (
    window_max,
    window_min,
    window_moments,
    window_sum,
    window_weighted_sum,
)

values = st.lists(st.integers(-500, 500).map(lambda t: 100.0 + t * 0.01), min_size=0, max_size=400)


def _windows(x: np.ndarray, n: int, reduce: object) -> np.ndarray:
    out = np.full(x.size, np.nan)
    if x.size >= n:
        out[n - 1 :] = reduce(sliding_window_view(x, n))  # type: ignore[operator]
    return out


@settings(max_examples=80, deadline=None)
@given(data=values, n=st.integers(1, 140))
def test_rolling_kernels_match_plain_windows(data: list[float], n: int) -> None:
    x = np.array(data)
    weights = np.arange(1, n + 1)
    np.testing.assert_allclose(window_sum(x, n), _windows(x, n, lambda w: w.sum(1)), rtol=1e-12)
    np.testing.assert_allclose(
        window_weighted_sum(x, n), _windows(x, n, lambda w: (w * weights).sum(1)), rtol=1e-12
    )
    np.testing.assert_array_equal(window_max(x, n), _windows(x, n, lambda w: w.max(1)))
    np.testing.assert_array_equal(window_min(x, n), _windows(x, n, lambda w: w.min(1)))
    mean, var = window_moments(x, n)
    np.testing.assert_allclose(mean, _windows(x, n, lambda w: w.mean(1)), rtol=1e-12)
    exact = _windows(x, n, lambda w: w.var(1))
    np.testing.assert_allclose(var, exact, rtol=1e-8, atol=1e-12)
    flat = _windows(x, n, lambda w: (w.max(1) == w.min(1)).astype(float)) == 1.0
    assert bool((var[flat] == 0.0).all())  # identical values: exactly zero, no residue


@settings(max_examples=80, deadline=None)
@given(
    b=st.lists(st.floats(-1e3, 1e3), min_size=0, max_size=600),
    a=st.sampled_from([0.0, 1e-3, 0.2, 0.5, 0.8, 13 / 14, 0.99, 0.999, 1.0]),
    y0=st.floats(-1e3, 1e3),
)
def test_decay_filter_matches_the_loop(b: list[float], a: float, y0: float) -> None:
    expected, y = [], y0
    for x in b:
        y = a * y + x
        expected.append(y)
    got = decay_filter(np.array(b), a, y0)
    scale = max([1.0, *map(abs, expected)])
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10 * scale)


@settings(max_examples=80, deadline=None)
@given(
    data=st.lists(st.tuples(st.floats(-1e3, 1e3), st.booleans()), min_size=0, max_size=600),
    a=st.sampled_from([0.5, 0.8, 13 / 14, 0.99]),
)
def test_gated_filter_matches_the_loop(data: list[tuple[float, bool]], a: float) -> None:
    b = np.array([x if on else 0.0 for x, on in data])
    coef = np.array([a if on else 1.0 for _, on in data])
    expected, y = [], 7.0
    for x, c in zip(b.tolist(), coef.tolist(), strict=True):
        y = c * y + x
        expected.append(y)
    scale = max([1.0, *map(abs, expected)])
    np.testing.assert_allclose(gated_filter(b, coef, 7.0), expected, rtol=1e-10, atol=1e-10 * scale)


def test_segment_cumsum_restarts_at_each_segment() -> None:
    x = np.array([[1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 1.0, 1.0, 1.0, 1.0]])
    first = np.array([0, 0, 2, 2, 4])
    np.testing.assert_array_equal(
        segment_cumsum(x, first), [[1.0, 3.0, 3.0, 7.0, 5.0], [1.0, 2.0, 1.0, 2.0, 1.0]]
    )
