"""The `name:params` text form shared by the CLI and configuration."""

from __future__ import annotations

import pytest

from app.indicators import (
    ADX,
    ATR,
    EMA,
    MACD,
    OBV,
    RSI,
    SMA,
    VWAP,
    Accel,
    BBands,
    GapPct,
    Highest,
    IndicatorParamError,
    IndicatorSyntaxError,
    MinutesSinceOpen,
    Ref,
    RelVolume,
    Slope,
    Stoch,
    VWAPBands,
    parse_indicator,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rsi:14", RSI(14)),
        ("rsi", RSI()),
        ("ema:9", EMA(9)),
        ("ema:12,26", EMA(12, warmup=26)),
        ("sma:20@volume", SMA(20, "volume")),
        ("max:20@close", Highest(20, "close")),
        ("bbands:20,2", BBands(20, 2.0)),
        ("bbands:20,2.5", BBands(20, 2.5)),
        ("bbands:20,2.5.upper", BBands(20, 2.5).upper),
        ("macd:12,26,9", MACD(12, 26, 9)),
        ("macd:12,26,9.signal", MACD(12, 26, 9).signal),
        ("stoch:14,3,3.d", Stoch(14, 3, 3).d),
        ("atr:14", ATR(14)),
        ("adx:14", ADX(14)),
        ("obv", OBV()),
        ("vwap", VWAP()),
        ("vwap_bands:1.5.lower", VWAPBands(1.5).lower),
        ("rvol:20,5", RelVolume(20, 5)),
        ("gap_pct", GapPct()),
        ("minutes_since_open", MinutesSinceOpen()),
        ("slope:3:ema:9", Slope(EMA(9), 3)),
        ("slope:1:macd:12,26,9.hist", Slope(MACD(12, 26, 9).hist, 1)),
        ("accel:2:slope:3:rsi:14", Accel(Slope(RSI(14), 3), 2)),
        (" rsi:14 ", RSI(14)),
    ],
)
def test_parses(text: str, expected: Ref) -> None:
    assert parse_indicator(text) == expected


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("foo:14", IndicatorSyntaxError, "unknown indicator 'foo'"),
        ("rsi:14,3", IndicatorSyntaxError, "at most 1 parameters"),
        ("rsi:1.5", IndicatorSyntaxError, "period must be an integer"),
        ("bbands:20,", IndicatorSyntaxError, "empty parameter"),
        ("bbands:20,x", IndicatorSyntaxError, "cannot parse"),
        ("sma:20@vwap", IndicatorSyntaxError, "unknown field 'vwap'"),
        ("atr:14@close", IndicatorSyntaxError, "no source field"),
        ("macd:12,26,9.foo", IndicatorParamError, "no output 'foo'"),
        ("rsi:0", IndicatorParamError, "period must be an integer >= 1"),
        ("macd:26,12,9", IndicatorParamError, "must be < slow"),
        ("slope:3:macd:12,26,9", IndicatorParamError, "address one"),
        ("slope:3:nope", IndicatorSyntaxError, "unknown indicator 'nope'"),
        ("", IndicatorSyntaxError, "cannot parse"),
    ],
)
def test_reports_what_is_wrong(text: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        parse_indicator(text)
    with pytest.raises(ValueError):  # both kinds are ValueErrors for callers that do not care
        parse_indicator(text)
