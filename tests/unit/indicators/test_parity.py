"""The incremental engine and the batch form agree on every indicator, bar for bar, on random
series with flat stretches, zero-range bars, zero volume and gaps across New York dates."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from app.domain.market import Bar
from app.indicators import (
    ADX,
    ATR,
    EMA,
    MACD,
    OBV,
    ROC,
    RSI,
    SMA,
    VWAP,
    WMA,
    Accel,
    BarArrays,
    BBands,
    Donchian,
    GapPct,
    Highest,
    IndicatorSpec,
    Lowest,
    MinutesSinceOpen,
    Output,
    RelVolume,
    Slope,
    StdDev,
    Stoch,
    TrueRange,
    VWAPBands,
    compute_outputs,
)
from tests.unit.indicators.builders import (
    assert_close,
    bar_series,
    random_bars,
    run_incremental,
)

PERCENT = {"rsi", "stoch", "adx", "roc", "gap_pct"}
SPECS: tuple[IndicatorSpec, ...] = (
    SMA(1),
    SMA(4),
    SMA(6, "volume"),
    EMA(1),
    EMA(3),
    EMA(4, warmup=7),
    WMA(4),
    RSI(1),
    RSI(5),
    TrueRange(),
    ATR(3),
    StdDev(1),
    StdDev(4),
    BBands(5, 1.5),
    MACD(3, 6, 4),
    ROC(3),
    Stoch(4, 2, 3),
    OBV(),
    ADX(3),
    Highest(4),
    Lowest(4, "close"),
    Donchian(5),
    VWAP(),
    VWAPBands(1.0),
    RelVolume(3, 2),
    GapPct(),
    MinutesSinceOpen(),
    Slope(RSI(5), 2),
    Slope(MACD(3, 6, 4).hist, 1),
    Accel(VWAP(), 1),
    Accel(EMA(3), 2),
)


def _scale(spec: IndicatorSpec, bars: list[Bar]) -> float:
    while isinstance(spec, Slope | Accel):
        inner = spec.of
        spec = inner.spec if isinstance(inner, Output) else inner
    if spec.name in PERCENT:
        return 100.0
    if spec.name == "minutes_since_open":
        return 1440.0
    if spec.name in {"obv", "rvol"} or getattr(spec, "source", None) == "volume":
        return 1.0
    return max(abs(b.close) for b in bars)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.key)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bars=bar_series())
def test_incremental_equals_batch(spec: IndicatorSpec, bars: list[Bar]) -> None:
    live = run_incremental([spec], bars)
    batch = compute_outputs(spec, BarArrays.from_bars(bars))
    scale = _scale(spec, bars)
    for name, column in batch.items():
        key = Output(spec, name).key
        assert_close(live[key], column, scale=scale, label=key)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bars=bar_series(min_size=30, max_size=120))
def test_one_shared_set_equals_separate_batches(bars: list[Bar]) -> None:
    """All specs in one set (shared dependencies updated once) still match the batch forms."""
    live = run_incremental(SPECS, bars)
    arrays = BarArrays.from_bars(bars)
    for spec in SPECS:
        for name, column in compute_outputs(spec, arrays).items():
            key = Output(spec, name).key
            assert_close(live[key], column, scale=_scale(spec, bars), label=key)


def test_values_are_nan_until_ready_and_finite_after() -> None:
    series = random_bars(21, n=200)
    live = run_incremental([RSI(14), MACD(12, 26, 9), ATR(14)], series)
    for key, first in (("rsi_14", 14), ("macd_12_26_9_signal", 33), ("atr_14", 14)):
        assert np.isnan(live[key][:first]).all(), key
        assert np.isfinite(live[key][first:]).all(), key


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.key)
def test_an_empty_series_gives_empty_outputs(spec: IndicatorSpec) -> None:
    empty = BarArrays(
        ts=np.zeros(0, dtype=np.int64),
        open=np.zeros(0),
        high=np.zeros(0),
        low=np.zeros(0),
        close=np.zeros(0),
        volume=np.zeros(0),
    )
    outputs = compute_outputs(spec, empty)
    assert set(outputs) == set(spec.outputs)
    assert all(column.size == 0 for column in outputs.values())
