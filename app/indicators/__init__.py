"""Indicators: declarative specs, a dependency-ordered plan, an O(1) incremental engine and a
vectorized batch form of each, shared by live shards, backtests and rule mining.

    plan = IndicatorPlan.of(EMA(9), VWAP(), RelVolume(20), ATR(14), RSI(14))
    book = IndicatorBook(plan)                    # one IndicatorSet per symbol
    ind = book.update(bar)                        # O(1) per spec per bar
    ind.value(EMA(9)); ind.ready(RSI(14)); ind.snapshot()

    compute_batch(MACD(12, 26, 9).signal, BarArrays.from_bars(bars))   # whole series at once
    BatchCache().series(RSI(14), symbol="ABC", session="2024-05-01", bars=arrays)

See spec.py for the spec model, grammar.py for the `name:params` text form.
"""

from app.indicators.arrays import BarArrays
from app.indicators.averages import EMA, SMA, WMA
from app.indicators.batch import BatchRun, compute_batch, compute_outputs
from app.indicators.cache import BatchCache
from app.indicators.directional import ADX
from app.indicators.dispersion import BBands, StdDev
from app.indicators.errors import (
    IndicatorCycleError,
    IndicatorError,
    IndicatorParamError,
    IndicatorSyntaxError,
)
from app.indicators.grammar import CATALOG, parse_indicator
from app.indicators.live import IndicatorBook, IndicatorSet
from app.indicators.momentum import MACD, ROC, RSI, Stoch
from app.indicators.plan import IndicatorPlan
from app.indicators.ranges import ATR, Donchian, Highest, Lowest, TrueRange
from app.indicators.session import GapPct, MinutesSinceOpen
from app.indicators.spec import IndicatorSpec, Output, Ref
from app.indicators.trading_day import NewYorkCalendar
from app.indicators.trajectory import Accel, Slope
from app.indicators.volume import OBV, VWAP, RelVolume, VWAPBands

__all__ = [
    "ADX",
    "ATR",
    "CATALOG",
    "EMA",
    "MACD",
    "OBV",
    "ROC",
    "RSI",
    "SMA",
    "VWAP",
    "WMA",
    "Accel",
    "BBands",
    "BarArrays",
    "BatchCache",
    "BatchRun",
    "Donchian",
    "GapPct",
    "Highest",
    "IndicatorBook",
    "IndicatorCycleError",
    "IndicatorError",
    "IndicatorParamError",
    "IndicatorPlan",
    "IndicatorSet",
    "IndicatorSpec",
    "IndicatorSyntaxError",
    "Lowest",
    "MinutesSinceOpen",
    "NewYorkCalendar",
    "Output",
    "Ref",
    "RelVolume",
    "Slope",
    "StdDev",
    "Stoch",
    "TrueRange",
    "VWAPBands",
    "compute_batch",
    "compute_outputs",
    "parse_indicator",
]
