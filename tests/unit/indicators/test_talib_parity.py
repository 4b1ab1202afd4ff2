"""Every indicator TA-Lib has equals TA-Lib within 1e-9 relative, warm-up (NaN prefix) included,
in both the batch and the incremental form."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pytest
import talib
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
    WMA,
    BarArrays,
    BBands,
    Donchian,
    Highest,
    Lowest,
    Output,
    Ref,
    StdDev,
    Stoch,
    TrueRange,
    compute_batch,
)
from app.indicators.spec import FloatArray
from tests.unit.indicators.builders import (
    assert_close,
    bar_series,
    key_of,
    random_bars,
    run_incremental,
)


@dataclass(frozen=True)
class Columns:
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray


def columns(arrays: BarArrays) -> Columns:
    """Writable copies: TA-Lib refuses read-only buffers."""
    return Columns(
        *(np.array(getattr(arrays, f)) for f in ("open", "high", "low", "close", "volume"))
    )


@dataclass(frozen=True)
class Case:
    ref: Ref
    talib: Callable[[Columns], FloatArray]
    scale: str  # "price", "percent" or "volume"

    @property
    def id(self) -> str:
        return key_of(self.ref)


CASES: tuple[Case, ...] = (
    Case(SMA(5), lambda c: talib.SMA(c.close, 5), "price"),
    Case(SMA(20), lambda c: talib.SMA(c.close, 20), "price"),
    Case(SMA(10, "volume"), lambda c: talib.SMA(c.volume, 10), "volume"),
    Case(EMA(2), lambda c: talib.EMA(c.close, 2), "price"),
    Case(EMA(9), lambda c: talib.EMA(c.close, 9), "price"),
    Case(EMA(30), lambda c: talib.EMA(c.close, 30), "price"),
    Case(WMA(10), lambda c: talib.WMA(c.close, 10), "price"),
    Case(WMA(3, "high"), lambda c: talib.WMA(c.high, 3), "price"),
    Case(RSI(14), lambda c: talib.RSI(c.close, 14), "percent"),
    Case(RSI(2), lambda c: talib.RSI(c.close, 2), "percent"),
    Case(TrueRange(), lambda c: talib.TRANGE(c.high, c.low, c.close), "price"),
    Case(ATR(14), lambda c: talib.ATR(c.high, c.low, c.close, 14), "price"),
    Case(ATR(1), lambda c: talib.ATR(c.high, c.low, c.close, 1), "price"),
    Case(StdDev(20), lambda c: talib.STDDEV(c.close, 20, 1), "price"),
    Case(StdDev(5), lambda c: talib.STDDEV(c.close, 5, 1), "price"),
    Case(BBands(20, 2).upper, lambda c: talib.BBANDS(c.close, 20, 2, 2)[0], "price"),
    Case(BBands(20, 2).middle, lambda c: talib.BBANDS(c.close, 20, 2, 2)[1], "price"),
    Case(BBands(20, 2).lower, lambda c: talib.BBANDS(c.close, 20, 2, 2)[2], "price"),
    Case(BBands(10, 1.5).upper, lambda c: talib.BBANDS(c.close, 10, 1.5, 1.5)[0], "price"),
    Case(MACD(12, 26, 9).line, lambda c: talib.MACD(c.close, 12, 26, 9)[0], "price"),
    Case(MACD(12, 26, 9).signal, lambda c: talib.MACD(c.close, 12, 26, 9)[1], "price"),
    Case(MACD(12, 26, 9).hist, lambda c: talib.MACD(c.close, 12, 26, 9)[2], "price"),
    Case(MACD(5, 13, 4).signal, lambda c: talib.MACD(c.close, 5, 13, 4)[1], "price"),
    Case(ROC(10), lambda c: talib.ROC(c.close, 10), "percent"),
    Case(ROC(1), lambda c: talib.ROC(c.close, 1), "percent"),
    Case(
        Stoch(14, 3, 3).k,
        lambda c: talib.STOCH(
            c.high, c.low, c.close, fastk_period=14, slowk_period=3, slowd_period=3
        )[0],
        "percent",
    ),
    Case(
        Stoch(14, 3, 3).d,
        lambda c: talib.STOCH(
            c.high, c.low, c.close, fastk_period=14, slowk_period=3, slowd_period=3
        )[1],
        "percent",
    ),
    Case(
        Stoch(5, 1, 2).d,
        lambda c: talib.STOCH(
            c.high, c.low, c.close, fastk_period=5, slowk_period=1, slowd_period=2
        )[1],
        "percent",
    ),
    Case(OBV(), lambda c: talib.OBV(c.close, c.volume), "volume"),
    Case(ADX(14), lambda c: talib.ADX(c.high, c.low, c.close, 14), "percent"),
    Case(ADX(3), lambda c: talib.ADX(c.high, c.low, c.close, 3), "percent"),
    Case(Highest(20), lambda c: talib.MAX(c.high, 20), "price"),
    Case(Lowest(20), lambda c: talib.MIN(c.low, 20), "price"),
    Case(Highest(7, "close"), lambda c: talib.MAX(c.close, 7), "price"),
    Case(Donchian(20).upper, lambda c: talib.MAX(c.high, 20), "price"),
    Case(Donchian(20).lower, lambda c: talib.MIN(c.low, 20), "price"),
    Case(Donchian(20).middle, lambda c: talib.MIDPRICE(c.high, c.low, 20), "price"),
)

SERIES: dict[str, list[Bar]] = {
    "cents@100": random_bars(1, tick=0.01, level=100.0),
    "subpenny@0.5": random_bars(2, tick=0.0001, level=0.5),
    "dollars@5000": random_bars(3, tick=1.0, level=5000.0),
    "cents@3": random_bars(4, tick=0.01, level=3.0, flat_share=0.6),
    "short": random_bars(5, n=30),
}


def _scale(kind: str, cols: Columns, expected: FloatArray) -> float:
    finite = expected[np.isfinite(expected)]
    magnitude = float(np.abs(finite).max()) if finite.size else 0.0
    natural = {"price": float(np.abs(cols.close).max()), "percent": 100.0, "volume": 1.0}[kind]
    return max(natural, magnitude)


def _check(case: Case, bars: Sequence[Bar], *, incremental: bool) -> None:
    arrays = BarArrays.from_bars(bars)
    cols = columns(arrays)
    expected = np.asarray(case.talib(cols), dtype=np.float64)
    scale = _scale(case.scale, cols, expected)
    assert_close(compute_batch(case.ref, arrays), expected, scale=scale, label=f"{case.id} batch")
    if incremental:
        got = run_incremental([case.ref], bars)[key_of(case.ref)]
        assert_close(got, expected, scale=scale, label=f"{case.id} incremental")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@pytest.mark.parametrize("series", SERIES, ids=str)
def test_equals_talib_on_fixed_series(case: Case, series: str) -> None:
    _check(case, SERIES[series], incremental=True)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bars=bar_series(min_size=1, max_size=80))
def test_batch_equals_talib_on_random_series(case: Case, bars: list[Bar]) -> None:
    _check(case, bars, incremental=False)


def test_macd_fast_ema_is_seeded_where_the_slow_one_starts() -> None:
    """TA-Lib seeds MACD's fast EMA with the SMA of the `fast` values ending at bar slow-1, not
    at bar fast-1; a plain EMA(12) gives a visibly different line."""
    bars = random_bars(11)
    arrays = BarArrays.from_bars(bars)
    close = columns(arrays).close
    line = talib.MACD(close, 12, 26, 9)[0]
    plain = compute_batch(EMA(12), arrays) - compute_batch(EMA(26), arrays)
    aligned = compute_batch(MACD(12, 26, 9).line, arrays)
    assert_close(aligned, line, scale=float(close.max()), label="macd line")
    assert np.nanmax(np.abs(plain[33:] - line[33:])) > 1e-3
    assert EMA(12, warmup=26) in MACD(12, 26, 9).deps()


def test_outputs_are_addressable_one_by_one() -> None:
    bars = random_bars(12)
    arrays = BarArrays.from_bars(bars)
    upper = compute_batch(Output(BBands(20, 2), "upper"), arrays)
    lower = compute_batch(BBands(20, 2).lower, arrays)
    middle = compute_batch(BBands(20, 2).out("middle"), arrays)
    ok = ~np.isnan(middle)
    assert np.allclose((upper[ok] + lower[ok]) / 2.0, middle[ok], rtol=1e-12)
    assert bool((upper[ok] >= lower[ok]).all())
