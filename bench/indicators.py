"""Indicator engine benchmark (a script, not a test).

For every library indicator: ns per incremental update with 1k and with 100k bars of history
already seen (equal within noise = O(1) per bar), the same against talipp's incremental
implementation, and the batch form's ns per bar over 100k bars; then the same for a full
strategy's demanded set (EMA9, VWAP, RelVolume20, ATR14, RSI14).

    PYTHONPATH=. .venv/bin/python bench/indicators.py          # readable table
    PYTHONPATH=. .venv/bin/python bench/indicators.py --json   # machine-readable figures

Per update is measured through the public API (`IndicatorSet.update(bar)` on a set demanding
just that indicator, dependencies included); "marginal" subtracts the cost of updating an empty
set, i.e. what the indicator adds to a shard's per-bar work. Each figure is the best of several
interleaved runs, with the garbage collector off while timing.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import talipp.indicators as tp
from talipp.ohlcv import OHLCV

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
    BatchRun,
    BBands,
    Donchian,
    GapPct,
    Highest,
    IndicatorPlan,
    IndicatorSet,
    IndicatorSpec,
    Lowest,
    MinutesSinceOpen,
    NewYorkCalendar,
    RelVolume,
    Slope,
    StdDev,
    Stoch,
    TrueRange,
    VWAPBands,
)

LONG_HISTORY = 100_000
SHORT_HISTORY = 1_000
CHUNK = 5_000
REPEATS = 15
BARS_PER_DAY = 960  # 04:00-20:00 New York, one-minute bars
FIRST_BAR_NS = 1_704_186_000_000_000_000  # 2024-01-02 04:00 New York

Feed = Callable[[Any], None]


@dataclass(frozen=True)
class Case:
    spec: IndicatorSpec
    talipp: Callable[[], Any] | None
    talipp_input: str  # "close" or "ohlcv"


CASES: tuple[Case, ...] = (
    Case(SMA(20), lambda: tp.SMA(20), "close"),
    Case(EMA(9), lambda: tp.EMA(9), "close"),
    Case(WMA(20), lambda: tp.WMA(20), "close"),
    Case(RSI(14), lambda: tp.RSI(14), "close"),
    Case(TrueRange(), None, "ohlcv"),
    Case(ATR(14), lambda: tp.ATR(14), "ohlcv"),
    Case(StdDev(20), lambda: tp.StdDev(20), "close"),
    Case(BBands(20, 2.0), lambda: tp.BB(20, 2.0), "close"),
    Case(MACD(12, 26, 9), lambda: tp.MACD(12, 26, 9), "close"),
    Case(ROC(10), lambda: tp.ROC(10), "close"),
    Case(Stoch(14, 3, 3), lambda: tp.Stoch(14, 3), "ohlcv"),
    Case(OBV(), lambda: tp.OBV(), "ohlcv"),
    Case(ADX(14), lambda: tp.ADX(14, 14), "ohlcv"),
    Case(Highest(20), None, "ohlcv"),
    Case(Lowest(20), None, "ohlcv"),
    Case(Donchian(20), lambda: tp.DonchianChannels(20), "ohlcv"),
    Case(VWAP(), lambda: tp.VWAP(), "ohlcv"),
    Case(VWAPBands(2.0), None, "ohlcv"),
    Case(RelVolume(20, 5), None, "ohlcv"),
    Case(GapPct(), None, "ohlcv"),
    Case(MinutesSinceOpen(), None, "ohlcv"),
    Case(Slope(EMA(9), 3), None, "close"),
    Case(Accel(EMA(9), 3), None, "close"),
)
STRATEGY: tuple[IndicatorSpec, ...] = (EMA(9), VWAP(), RelVolume(20, 5), ATR(14), RSI(14))


def synthetic_bars(count: int, seed: int = 7) -> list[Bar]:
    """A random-walk small cap on one-minute bars, 960 bars per New York date."""
    rng = np.random.default_rng(seed)
    close = (5.0 * np.exp(np.cumsum(rng.normal(0.0, 0.002, count)))).round(4)
    opens = np.concatenate(([close[0]], close[:-1]))
    high = np.maximum(opens, close) + rng.exponential(0.01, count).round(4)
    low = np.maximum(np.minimum(opens, close) - rng.exponential(0.01, count).round(4), 0.01)
    volume = rng.integers(100, 50_000, count)
    index = np.arange(count)
    ts = FIRST_BAR_NS + (index // BARS_PER_DAY) * 86_400_000_000_000
    ts += (index % BARS_PER_DAY) * 60_000_000_000
    return [
        Bar("SYN", int(t), 60, float(o), float(h), float(lo), float(c), int(v), 1, float(c))
        for t, o, h, lo, c, v in zip(ts, opens, high, low, close, volume, strict=True)
    ]


def _timed(feed: Feed, items: Sequence[Any]) -> float:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter_ns()
        for item in items:
            feed(item)
        return (time.perf_counter_ns() - start) / len(items)
    finally:
        gc.enable()


def _warm(plan: IndicatorPlan, bars: Sequence[Bar]) -> IndicatorSet:
    indicator_set = IndicatorSet(plan, symbol="SYN")
    for bar in bars:
        indicator_set.update(bar)
    return indicator_set


def incremental_ns(
    plan: IndicatorPlan,
    bars: Sequence[Bar],
    rival: Feed | None = None,
    rival_inputs: Sequence[Any] = (),
) -> tuple[float, float, float | None]:
    """Best ns per update after SHORT_HISTORY and after LONG_HISTORY bars, and of `rival` (fed
    SHORT_HISTORY inputs beforehand), all measured interleaved so they see the same machine
    load."""
    short = _warm(plan, bars[:SHORT_HISTORY])
    long = _warm(plan, bars[:LONG_HISTORY])
    if rival is not None:
        for item in rival_inputs[:SHORT_HISTORY]:
            rival(item)
    best_short = best_long = best_rival = float("inf")
    for r in range(REPEATS):
        lo = SHORT_HISTORY + r * CHUNK
        best_short = min(best_short, _timed(short.update, bars[lo : lo + CHUNK]))
        if rival is not None:
            best_rival = min(best_rival, _timed(rival, rival_inputs[lo : lo + CHUNK]))
        hi = LONG_HISTORY + r * CHUNK
        best_long = min(best_long, _timed(long.update, bars[hi : hi + CHUNK]))
    return best_short, best_long, (best_rival if rival is not None else None)


def batch_ns(specs: Sequence[IndicatorSpec], arrays: BarArrays) -> float:
    """Best ns per bar to evaluate `specs` (and their dependencies) over all of `arrays`; the
    calendar (New York date lookups) is shared between runs, as in a BatchCache."""
    calendar = NewYorkCalendar()
    best = float("inf")
    for _ in range(REPEATS):
        run = BatchRun(arrays, calendar=calendar)
        start = time.perf_counter_ns()
        for spec in specs:
            run.outputs(spec)
        best = min(best, (time.perf_counter_ns() - start) / len(arrays))
    return best


def measure() -> dict[str, Any]:
    started = time.perf_counter()
    bars = synthetic_bars(LONG_HISTORY + REPEATS * CHUNK)
    closes = [b.close for b in bars]
    ohlcv = [OHLCV(b.open, b.high, b.low, b.close, float(b.volume)) for b in bars]
    arrays = BarArrays.from_bars(bars[:LONG_HISTORY])
    empty_short, empty_long, _ = incremental_ns(IndicatorPlan(), bars)
    empty = min(empty_short, empty_long)
    rows: list[dict[str, Any]] = []
    for case in CASES:
        rival: Feed | None = None
        inputs: Sequence[Any] = ()
        if case.talipp is not None:
            rival = case.talipp().add
            inputs = closes if case.talipp_input == "close" else ohlcv
        short, long, theirs = incremental_ns(IndicatorPlan.of(case.spec), bars, rival, inputs)
        per_update = min(short, long)
        marginal = max(per_update - empty, 1.0)
        row: dict[str, Any] = {
            "indicator": case.spec.key,
            "ns_per_update_1k": round(short, 1),
            "ns_per_update_100k": round(long, 1),
            "history_ratio": round(long / short, 3),
            "marginal_ns": round(marginal, 1),
            "talipp_ns": None,
            "talipp_ratio": None,
            "talipp_ratio_marginal": None,
        }
        if theirs is not None:
            row["talipp_ns"] = round(theirs, 1)
            row["talipp_ratio"] = round(theirs / per_update, 2)
            row["talipp_ratio_marginal"] = round(theirs / marginal, 2)
        per_bar = batch_ns((case.spec,), arrays)
        row["batch_ns_per_bar"] = round(per_bar, 2)
        row["batch_ratio"] = round(per_update / per_bar, 1)
        rows.append(row)

    ema, vwap, atr, rsi, vol = tp.EMA(9), tp.VWAP(), tp.ATR(14), tp.RSI(14), tp.SMA(20)

    def talipp_strategy(i: int) -> None:
        ema.add(closes[i])
        vwap.add(ohlcv[i])
        atr.add(ohlcv[i])
        rsi.add(closes[i])
        vol.add(ohlcv[i].volume)

    strategy_short, strategy_long, strategy_talipp = incremental_ns(
        IndicatorPlan.of(*STRATEGY), bars, talipp_strategy, range(len(bars))
    )
    theirs = strategy_talipp if strategy_talipp is not None else float("nan")
    strategy_update = min(strategy_short, strategy_long)
    strategy_batch = batch_ns(STRATEGY, arrays)
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "bars_batch": len(arrays),
        "empty_set_ns_per_update": round(empty, 1),
        "indicators": rows,
        "strategy_set": {
            "indicators": [spec.key for spec in STRATEGY],
            "ns_per_update_1k": round(strategy_short, 1),
            "ns_per_update_100k": round(strategy_long, 1),
            "history_ratio": round(strategy_long / strategy_short, 3),
            "talipp_ns": round(theirs, 1),
            "talipp_ratio": round(theirs / strategy_update, 2),
            "batch_ns_per_bar": round(strategy_batch, 2),
            "batch_ratio": round(strategy_update / strategy_batch, 1),
        },
        "seconds": round(time.perf_counter() - started, 1),
    }


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def print_table(result: dict[str, Any]) -> None:
    header = (
        "indicator",
        "ns@1k",
        "ns@100k",
        "100k/1k",
        "marginal",
        "talipp",
        "x talipp",
        "x (marg.)",
        "batch ns/bar",
        "x batch",
    )
    keys = (
        "indicator",
        "ns_per_update_1k",
        "ns_per_update_100k",
        "history_ratio",
        "marginal_ns",
        "talipp_ns",
        "talipp_ratio",
        "talipp_ratio_marginal",
        "batch_ns_per_bar",
        "batch_ratio",
    )
    rows = [header, *[tuple(_cell(r[k]) for k in keys) for r in result["indicators"]]]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    s = result["strategy_set"]
    print()
    print(f"empty set update: {result['empty_set_ns_per_update']} ns")
    print(f"strategy set ({', '.join(s['indicators'])}):")
    print(
        f"  {s['ns_per_update_1k']} ns/bar @1k, {s['ns_per_update_100k']} ns/bar @100k "
        f"(ratio {s['history_ratio']}); talipp {s['talipp_ns']} ns/bar (x{s['talipp_ratio']}); "
        f"batch {s['batch_ns_per_bar']} ns/bar (x{s['batch_ratio']})"
    )
    print(f"python {result['python']}, numpy {result['numpy']}, took {result['seconds']} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    result = measure()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
