"""`ready` flips exactly at the bar TA-Lib produces its first value, and never flips back."""

from __future__ import annotations

import numpy as np
import pytest
import talib

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
    Accel,
    BarArrays,
    BBands,
    Donchian,
    Highest,
    IndicatorBook,
    IndicatorPlan,
    IndicatorSpec,
    Lowest,
    Slope,
    StdDev,
    Stoch,
    TrueRange,
    compute_batch,
)
from app.indicators.spec import output_of
from tests.unit.indicators.builders import random_bars, ready_flags, run_incremental

BARS = random_bars(41, n=120)
_A = BarArrays.from_bars(BARS)
C, H, L, V = (np.array(getattr(_A, f)) for f in ("close", "high", "low", "volume"))

# spec, expected first ready bar, and TA-Lib's output for the same bars (None: no TA-Lib twin)
WARMUPS: tuple[tuple[IndicatorSpec, int, np.ndarray | None], ...] = (
    (SMA(10), 9, talib.SMA(C, 10)),
    (EMA(9), 8, talib.EMA(C, 9)),
    (EMA(12, warmup=26), 25, None),
    (WMA(7), 6, talib.WMA(C, 7)),
    (RSI(14), 14, talib.RSI(C, 14)),
    (TrueRange(), 1, talib.TRANGE(H, L, C)),
    (ATR(14), 14, talib.ATR(H, L, C, 14)),
    (StdDev(20), 19, talib.STDDEV(C, 20, 1)),
    (BBands(20, 2), 19, talib.BBANDS(C, 20, 2, 2)[1]),
    (MACD(12, 26, 9), 33, talib.MACD(C, 12, 26, 9)[0]),
    (ROC(10), 10, talib.ROC(C, 10)),
    (Stoch(14, 3, 3), 17, talib.STOCH(H, L, C, fastk_period=14, slowk_period=3, slowd_period=3)[0]),
    (OBV(), 0, talib.OBV(C, V)),
    (ADX(14), 27, talib.ADX(H, L, C, 14)),
    (Highest(20), 19, talib.MAX(H, 20)),
    (Lowest(5), 4, talib.MIN(L, 5)),
    (Donchian(20), 19, talib.MIDPRICE(H, L, 20)),
    (Slope(EMA(9), 3), 11, None),
    (Accel(RSI(14), 2), 18, None),
    (Slope(MACD(12, 26, 9).hist, 1), 34, None),
)


@pytest.mark.parametrize(
    ("spec", "first", "reference"), WARMUPS, ids=lambda x: getattr(x, "key", "")
)
def test_ready_flips_exactly_at_the_lookback(
    spec: IndicatorSpec, first: int, reference: np.ndarray | None
) -> None:
    assert spec.lookback == first
    if reference is not None:
        assert int(np.argmax(~np.isnan(reference))) == first  # TA-Lib's warm-up convention
    flags = ready_flags(spec, BARS)
    assert flags == [i >= first for i in range(len(BARS))]
    live = run_incremental([spec], BARS)
    for name in spec.outputs:
        key = spec.out(name).key
        assert np.isnan(live[key][:first]).all(), key
        assert not np.isnan(live[key][first]), key
        batch = compute_batch(spec.out(name), _A)
        assert int(np.argmax(~np.isnan(batch))) == first, key


def test_a_series_shorter_than_the_lookback_is_never_ready() -> None:
    short = BARS[:14]
    assert ready_flags(RSI(14), short) == [False] * 14
    assert np.isnan(compute_batch(RSI(14), BarArrays.from_bars(short))).all()
    assert np.isnan(compute_batch(MACD(12, 26, 9).hist, BarArrays.from_bars(short))).all()


def test_readiness_is_per_spec_and_reported_per_output() -> None:
    book = IndicatorBook(IndicatorPlan.of(MACD(12, 26, 9), EMA(26)))
    for i, b in enumerate(BARS[:40]):
        indicator_set = book.update(b)
        assert indicator_set.ready(EMA(26)) == (i >= 25)
        assert indicator_set.ready(MACD(12, 26, 9).signal) == (i >= 33)
        assert indicator_set.ready(MACD(12, 26, 9)) == indicator_set.ready(MACD(12, 26, 9).line)
    snapshot = book["TEST"].snapshot()
    assert set(snapshot) == {
        "macd_12_26_9_line",
        "macd_12_26_9_signal",
        "macd_12_26_9_hist",
        "ema_26",
    }
    assert snapshot["ema_26"] == book["TEST"].value(EMA(26))
    assert snapshot["macd_12_26_9_hist"] == pytest.approx(
        snapshot["macd_12_26_9_line"] - snapshot["macd_12_26_9_signal"], abs=1e-12
    )


def test_reading_an_ambiguous_or_undemanded_value_is_an_error() -> None:
    indicator_set = IndicatorBook(IndicatorPlan.of(MACD(12, 26, 9))).set_for("TEST")
    with pytest.raises(ValueError, match="address one"):
        indicator_set.value(MACD(12, 26, 9))
    with pytest.raises(KeyError, match="rsi_14"):
        indicator_set.value(RSI(14))
    with pytest.raises(KeyError, match="rsi_14"):
        indicator_set.ready(RSI(14))
    assert output_of(MACD(12, 26, 9).hist).key == "macd_12_26_9_hist"
