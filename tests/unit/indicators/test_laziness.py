"""Only what is demanded (plus its dependencies) is ever computed, each thing once, live and in
batch; adding a strategy adds only what it lacks."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pytest

from app.domain.market import Bar
from app.indicators import (
    ADX,
    ATR,
    EMA,
    MACD,
    RSI,
    SMA,
    VWAP,
    BarArrays,
    BatchCache,
    BatchRun,
    BBands,
    IndicatorBook,
    IndicatorPlan,
    IndicatorSet,
    IndicatorSpec,
    RelVolume,
    StdDev,
    TrueRange,
)
from app.indicators.spec import VALUE, BatchContext, FloatArray, Step, StepContext
from tests.unit.indicators.builders import random_bars

CALLS: Counter[str] = Counter()


@pytest.fixture(autouse=True)
def _reset_calls() -> None:
    CALLS.clear()


@dataclass(frozen=True, slots=True, eq=False)
class Probe(IndicatorSpec):
    """Counts every incremental step and every batch evaluation it performs."""

    name = "probe"
    tag: str = "p"

    def params(self) -> tuple[object, ...]:
        return (self.tag,)

    def incremental(self, ctx: StepContext) -> Step:
        values, slot = ctx.values, ctx.slot()
        ctx.ready[ctx.flag] = True

        def step(bar: Bar) -> None:
            CALLS[f"step:{self.key}"] += 1
            values[slot] = bar.close

        return step

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        CALLS[f"batch:{self.key}"] += 1
        return {VALUE: np.array(ctx.bars.close)}


@dataclass(frozen=True, slots=True, eq=False)
class Reader(IndicatorSpec):
    """Reads a Probe; several readers share one probe."""

    name = "reader"
    tag: str = "r"
    probe: str = "p"

    def params(self) -> tuple[object, ...]:
        return (self.tag, self.probe)

    def deps(self) -> tuple[IndicatorSpec, ...]:
        return (Probe(self.probe),)

    def incremental(self, ctx: StepContext) -> Step:
        values, slot = ctx.values, ctx.slot()
        src, _ = ctx.source(Probe(self.probe))
        ctx.ready[ctx.flag] = True

        def step(bar: Bar) -> None:
            CALLS[f"step:{self.key}"] += 1
            values[slot] = values[src] * 2.0

        return step

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        CALLS[f"batch:{self.key}"] += 1
        return {VALUE: ctx.series(Probe(self.probe)) * 2.0}


BARS = random_bars(31, n=120)


def _feed(target: IndicatorSet | IndicatorBook, bars: list[Bar]) -> None:
    for b in bars:
        target.update(b)


def test_only_demanded_specs_and_their_dependencies_are_materialized() -> None:
    ema_only = IndicatorSet(IndicatorPlan.of(EMA(9)), symbol="TEST")
    _feed(ema_only, BARS)
    assert ema_only.materialized == ("ema_9",)
    assert ema_only.computations() == {"ema_9": len(BARS)}

    macd = IndicatorSet(IndicatorPlan.of(MACD(12, 26, 9)), symbol="TEST")
    assert macd.materialized == ("ema_12_26", "ema_26", "macd_12_26_9")
    assert "ema_12" not in macd.materialized and "adx_14" not in macd.materialized


def test_undemanded_specs_never_run() -> None:
    indicator_set = IndicatorSet(IndicatorPlan.of(Reader("a")), symbol="TEST")
    _feed(indicator_set, BARS)
    assert Counter({"step:probe_p": len(BARS), "step:reader_a_p": len(BARS)}) == CALLS
    assert "step:probe_other" not in CALLS


def test_a_dependency_shared_by_many_readers_runs_once_per_bar() -> None:
    plan = IndicatorPlan.of(Reader("a"), Reader("b"), Reader("c"), Probe("p"))
    indicator_set = IndicatorSet(plan, symbol="TEST")
    _feed(indicator_set, BARS)
    assert CALLS["step:probe_p"] == len(BARS)
    assert CALLS["step:reader_a_p"] == CALLS["step:reader_c_p"] == len(BARS)
    assert indicator_set.value(Reader("b")) == 2.0 * BARS[-1].close


def test_adding_a_strategy_adds_only_what_it_lacks() -> None:
    book = IndicatorBook(IndicatorPlan.of(EMA(9), RSI(14), Reader("a")))
    first, second = BARS[:60], BARS[60:]
    _feed(book, first)
    before = book["TEST"]
    ema_before = before.value(EMA(9))

    added = book.demand(EMA(9), ATR(14), Reader("b"))  # a second strategy
    assert set(added) == {Reader("b"), TrueRange(), ATR(14)}
    assert book["TEST"] is before
    assert before.ready(EMA(9)) and before.value(EMA(9)) == ema_before  # still warm, untouched
    _feed(book, second)
    counts = before.computations()
    assert counts["ema_9"] == counts["rsi_14"] == counts["probe_p"] == len(BARS)
    assert counts["atr_14"] == counts["trange"] == counts["reader_b_p"] == len(second)
    assert CALLS["step:probe_p"] == len(BARS)  # the shared probe was not duplicated
    assert CALLS["step:reader_b_p"] == len(second)

    reference = IndicatorSet(IndicatorPlan.of(EMA(9)), symbol="TEST")
    _feed(reference, BARS)
    assert before.value(EMA(9)) == reference.value(EMA(9))


def test_new_specs_warm_up_from_the_next_bar() -> None:
    book = IndicatorBook(IndicatorPlan.of(EMA(9)))
    _feed(book, BARS[:50])
    book.demand(RSI(14))
    indicator_set = book["TEST"]
    for i, b in enumerate(BARS[50:70]):
        indicator_set.update(b)
        assert indicator_set.ready(RSI(14)) == (i >= 14)


def test_batch_run_evaluates_each_dependency_once() -> None:
    run = BatchRun(BarArrays.from_bars(BARS))
    run.outputs(MACD(12, 26, 9))
    run.outputs(EMA(26))
    run.outputs(BBands(20, 2))
    run.outputs(SMA(20))
    assert [spec.key for spec in run.computed] == [
        "ema_12_26",
        "ema_26",
        "macd_12_26_9",
        "sma_20",
        "stddev_20",
        "bbands_20_2",
    ]


def test_batch_cache_never_recomputes() -> None:
    cache = BatchCache()
    arrays = BarArrays.from_bars(BARS)
    upper = cache.series(BBands(20, 2).upper, symbol="ABC", session="2024-03-07", bars=arrays)
    assert cache.computations == 3  # SMA, StdDev, BBands
    again = cache.series(BBands(20, 2).upper, symbol="ABC", session="2024-03-07", bars=arrays)
    assert again is upper
    cache.series(SMA(20), symbol="ABC", session="2024-03-07", bars=arrays)
    cache.series(StdDev(20), symbol="ABC", session="2024-03-07", bars=arrays)
    assert cache.computations == 3 and cache.hits == 3 and cache.misses == 1

    cache.series(Reader("a"), symbol="ABC", session="2024-03-07", bars=arrays)
    cache.series(Reader("b"), symbol="ABC", session="2024-03-07", bars=arrays)
    cache.series(Reader("a"), symbol="ABC", session="2024-03-07", bars=arrays)
    assert CALLS["batch:probe_p"] == 1
    assert CALLS["batch:reader_a_p"] == 1

    cache.series(SMA(20), symbol="ABC", session="2024-03-08", bars=arrays)  # other session
    cache.series(SMA(20), symbol="XYZ", session="2024-03-07", bars=arrays)  # other symbol
    assert cache.computations == 3 + 3 + 2
    assert cache.peek(SMA(20), symbol="XYZ", session="2024-03-07") is not None
    assert cache.peek(ADX(14), symbol="XYZ", session="2024-03-07") is None


def test_batch_cache_results_are_read_only_and_bounded() -> None:
    cache = BatchCache(max_entries=2)
    arrays = BarArrays.from_bars(BARS)
    vwap = cache.series(VWAP(), symbol="ABC", session=1, bars=arrays)
    with pytest.raises(ValueError, match="read-only"):
        vwap[0] = 0.0
    cache.series(RelVolume(20, 5), symbol="ABC", session=1, bars=arrays)  # 2 entries: sma, rvol
    assert len(cache) == 2
    assert cache.peek(VWAP(), symbol="ABC", session=1) is None  # least recently used, evicted
    assert cache.discard(symbol="ABC") == 2 and len(cache) == 0
