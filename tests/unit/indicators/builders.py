"""Bar builders, a hypothesis strategy for bar series, and the closeness check the tests share.

"Equal within 1e-9 relative" means |a - b| <= 1e-9 * max(|a|, |b|, scale) with NaN exactly where
the other side has NaN. `scale` is the natural magnitude of the output (the price level for
price-valued outputs, 100 for oscillators): a value that should be 0 but carries the rounding
residue of running sums over $100 prices is compared at the price level, not against 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import strategies as st

from app.domain.market import Bar
from app.indicators import IndicatorPlan, IndicatorSet, Output, Ref
from app.indicators.spec import FloatArray, output_of

RTOL = 1e-9
NEW_YORK = ZoneInfo("America/New_York")
MINUTE_NS = 60_000_000_000


def ny_ns(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """Nanoseconds since the epoch of a New York wall-clock time."""
    local = dt.datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)
    return int(local.timestamp()) * 1_000_000_000


def bar(
    ts_ns: int,
    close: float,
    *,
    open_: float | None = None,
    high: float | None = None,
    low: float | None = None,
    volume: int = 100,
    symbol: str = "TEST",
) -> Bar:
    o = close if open_ is None else open_
    h = max(o, close) if high is None else high
    lo = min(o, close) if low is None else low
    return Bar(symbol, ts_ns, 60, o, h, lo, close, volume, 1, close)


def random_bars(
    seed: int,
    n: int = 400,
    *,
    tick: float = 0.01,
    level: float = 100.0,
    flat_share: float = 0.3,
    start_ns: int | None = None,
    step_ns: int = MINUTE_NS,
) -> list[Bar]:
    """A tick-grid random walk with flat bars, a long flat stretch and zero-range bars."""
    rng = np.random.default_rng(seed)
    steps = rng.integers(-8, 9, n)
    steps[rng.random(n) < flat_share] = 0
    steps[n // 4 : n // 4 + n // 8] = 0
    ticks = np.maximum(np.round(level / tick) + np.cumsum(steps), 10)
    spread_up = rng.integers(0, 5, n)
    spread_down = rng.integers(0, 5, n)
    spread_up[n // 4 : n // 4 + n // 8] = 0
    spread_down[n // 4 : n // 4 + n // 8] = 0
    opens = np.concatenate(([ticks[0]], ticks[:-1]))
    highs = np.maximum(opens, ticks) + spread_up
    lows = np.maximum(np.minimum(opens, ticks) - spread_down, 1)
    volumes = rng.integers(0, 5_000, n)
    start = ny_ns(2024, 3, 7, 4, 0) if start_ns is None else start_ns
    return [
        Bar(
            "TEST",
            start + i * step_ns,
            60,
            float(opens[i] * tick),
            float(highs[i] * tick),
            float(lows[i] * tick),
            float(ticks[i] * tick),
            int(volumes[i]),
            1,
            float(ticks[i] * tick),
        )
        for i in range(n)
    ]


_STARTS = (
    ny_ns(2024, 3, 8, 4, 0),  # the Friday before the spring DST switch
    ny_ns(2024, 3, 8, 9, 25),
    ny_ns(2024, 11, 1, 15, 50),  # the Friday before the autumn switch
    ny_ns(2024, 6, 3, 0, 0),
)
_GAPS = (MINUTE_NS, MINUTE_NS, MINUTE_NS, 30 * MINUTE_NS, 6 * 60 * MINUTE_NS, 24 * 60 * MINUTE_NS)


@st.composite
def bar_series(draw: st.DrawFn, min_size: int = 1, max_size: int = 90) -> list[Bar]:
    """Random bars on a tick grid: flat stretches, zero-range bars, zero volume, gaps that cross
    New York dates (and DST switches)."""
    n = draw(st.integers(min_size, max_size))
    tick = draw(st.sampled_from((0.01, 0.0001, 1.0)))
    start = draw(st.integers(20, 20_000))
    steps = draw(st.lists(st.sampled_from((-3, -1, 0, 0, 0, 1, 2, 5)), min_size=n, max_size=n))
    ups = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    downs = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    volumes = draw(st.lists(st.integers(0, 2_000), min_size=n, max_size=n))
    gaps = draw(st.lists(st.sampled_from(_GAPS), min_size=n, max_size=n))
    ts = draw(st.sampled_from(_STARTS))
    close = start
    bars: list[Bar] = []
    for i in range(n):
        prior = close
        close = max(close + steps[i], 2)
        high = max(prior, close) + ups[i]
        low = max(min(prior, close) - downs[i], 1)
        bars.append(
            Bar(
                "TEST",
                ts,
                60,
                prior * tick,
                high * tick,
                low * tick,
                close * tick,
                volumes[i],
                1,
                close * tick,
            )
        )
        ts += gaps[i]
    return bars


def run_incremental(refs: Iterable[Ref], bars: Sequence[Bar]) -> dict[str, FloatArray]:
    """Feed `bars` one by one; every output of every ref after each bar, by output key."""
    plan = IndicatorPlan(refs)
    indicator_set = IndicatorSet(plan, symbol="TEST")
    outputs = [Output(spec, name) for spec in plan.order for name in spec.outputs]
    series = {out.key: np.empty(len(bars)) for out in outputs}
    for i, b in enumerate(bars):
        indicator_set.update(b)
        for out in outputs:
            series[out.key][i] = indicator_set.value(out)
    return series


def ready_flags(ref: Ref, bars: Sequence[Bar]) -> list[bool]:
    """`ready(ref)` after each bar."""
    indicator_set = IndicatorSet(IndicatorPlan.of(ref), symbol="TEST")
    flags: list[bool] = []
    for b in bars:
        indicator_set.update(b)
        flags.append(indicator_set.ready(ref))
    return flags


def assert_close(
    actual: FloatArray, expected: FloatArray, *, scale: float, label: str = ""
) -> None:
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{label}: shape {actual.shape} != {expected.shape}"
    nan_a, nan_e = np.isnan(actual), np.isnan(expected)
    if not np.array_equal(nan_a, nan_e):
        where = np.flatnonzero(nan_a != nan_e)[:5].tolist()
        raise AssertionError(f"{label}: NaN positions differ at {where}")
    a, e = actual[~nan_a], expected[~nan_e]
    bound = RTOL * np.maximum(np.maximum(np.abs(a), np.abs(e)), scale)
    bad = np.flatnonzero(np.abs(a - e) > bound)
    if bad.size:
        rows = np.flatnonzero(~nan_a)[bad[:3]].tolist()
        raise AssertionError(f"{label}: differs at {rows}: {a[bad[:3]]} vs {e[bad[:3]]}")


def key_of(ref: Ref) -> str:
    return output_of(ref).key
