"""A bar taken whole (its prints tallied) makes the very bar, and the very signals, that its
prints make one by one; the aggregator refuses tallies it cannot take whole."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.backtest.bars import BarRow
from app.domain.market import Bar
from app.engine.bars import BarAggregator, BucketTally
from app.engine.shard import ShardEngine
from app.exits.config import ExitConfig
from app.exits.engine import ExitEngine
from app.marketdata.prints import BarPrints
from app.strategies.breakout import Breakout, BreakoutParams
from tests.builders import MINUTE, OPEN_NS

PRICES = st.floats(min_value=1.0, max_value=50.0, allow_nan=False, allow_infinity=False)


@st.composite
def bar_steps(draw: st.DrawFn) -> list[list[BarRow]]:
    """Minutes of bars for up to three symbols (some minutes without some symbols)."""
    steps: list[list[BarRow]] = []
    for minute in range(draw(st.integers(1, 12))):
        rows: list[BarRow] = []
        for symbol in ("AAA", "BBB", "CCC"):
            if not draw(st.booleans()):
                continue
            open_, close, a, b = (draw(PRICES) for _ in range(4))
            high = max(open_, close, a, b)
            low = min(open_, close, a, b)
            volume = draw(st.integers(0, 100_000))
            rows.append(BarRow(symbol, OPEN_NS + minute * MINUTE, open_, high, low, close, volume))
        steps.append(rows)
    return steps


def _bars_by_prints(steps: list[list[BarRow]], prints: BarPrints) -> list[Bar]:
    aggregator = BarAggregator(intervals=(60,))
    out: list[Bar] = []
    for rows in steps:
        if rows:
            for tick in prints.of(rows[0].ts_ns, rows):
                out.extend(aggregator.add(tick))
            out.extend(aggregator.flush_until(rows[0].ts_ns + MINUTE))
    return out


def _bars_by_tallies(steps: list[list[BarRow]], prints: BarPrints) -> list[Bar]:
    aggregator = BarAggregator(intervals=(60,))
    out: list[Bar] = []
    for rows in steps:
        if rows:
            for tally in prints.tallies(rows[0].ts_ns, rows):
                out.extend(aggregator.add_tally(tally))
            out.extend(aggregator.flush_until(rows[0].ts_ns + MINUTE))
    return out


@settings(max_examples=100, deadline=None)
@given(steps=bar_steps(), seed=st.integers(0, 5), latency_ms=st.sampled_from([0, 50]))
def test_tallied_bars_equal_the_bars_of_their_prints(
    steps: list[list[BarRow]], seed: int, latency_ms: int
) -> None:
    prints = BarPrints(interval_s=60, open_offset_ns=latency_ms * 1_000_000, seed=seed)
    assert _bars_by_tallies(steps, prints) == _bars_by_prints(steps, prints)


def _shard() -> ShardEngine:
    strategy = Breakout(BreakoutParams(lookback=3, volume_mult=1.5, min_minutes_into_session=1))
    return ShardEngine(
        strategies=[strategy],
        exits=ExitEngine({}, default=ExitConfig(stop_pct=2.0)),
        aggregator=BarAggregator(intervals=(60,)),
        exit_interval_s=60,
    )


@settings(max_examples=60, deadline=None)
@given(steps=bar_steps())
def test_a_shard_fed_tallies_signals_and_detects_as_one_fed_prints(
    steps: list[list[BarRow]],
) -> None:
    prints = BarPrints(interval_s=60, open_offset_ns=0, seed=3)
    by_ticks, by_tallies = _shard(), _shard()
    signals_ticks, signals_tallies = [], []
    for rows in steps:
        if not rows:
            continue
        start = rows[0].ts_ns
        ticks = prints.of(start, rows)
        signals_ticks += by_ticks.on_ticks(ticks) + by_ticks.on_time(start + MINUTE)
        signals_tallies += by_tallies.on_bar_prints(ticks, prints.tallies(start, rows))
        signals_tallies += by_tallies.on_time(start + MINUTE)
    assert signals_tallies == signals_ticks
    assert by_tallies.detectors.counts() == by_ticks.detectors.counts()
    assert (by_tallies.ticks, by_tallies.bars) == (by_ticks.ticks, by_ticks.bars)
    assert by_tallies.last_price == by_ticks.last_price
    assert by_tallies.last_trade_ns == by_ticks.last_trade_ns


def test_a_breakout_found_from_tallies() -> None:
    """Quiet minutes, then a minute that breaks out on volume: the entry comes at its close."""
    prints = BarPrints(interval_s=60, open_offset_ns=0, seed=1)
    shard = _shard()
    signals = []
    for minute in range(7):
        start = OPEN_NS + minute * MINUTE
        row = (
            BarRow("ABC", start, 10.2, 10.9, 10.2, 10.8, 20_000)
            if minute == 6
            else BarRow("ABC", start, 10.0, 10.1, 9.9, 10.05, 1_000)
        )
        signals += shard.on_bar_prints(prints.of(start, [row]), prints.tallies(start, [row]))
        signals += shard.on_time(start + MINUTE)
    (entry,) = signals
    assert entry.symbol == "ABC" and entry.ts_ns == OPEN_NS + 7 * MINUTE


def _tally(symbol: str, last_ns: int) -> BucketTally:
    return BucketTally(symbol, last_ns, 10.0, 10.0, 10.0, 10.0, 100, 1, 1_000.0)


def test_an_aggregator_of_several_intervals_refuses_tallies() -> None:
    with pytest.raises(ValueError, match="one interval"):
        BarAggregator(intervals=(1, 60)).add_tally(_tally("ABC", OPEN_NS))


def test_a_second_tally_in_an_open_bucket_is_refused() -> None:
    aggregator = BarAggregator(intervals=(60,))
    aggregator.add_tally(_tally("ABC", OPEN_NS + 1))
    with pytest.raises(ValueError, match="already has an open bar"):
        aggregator.add_tally(_tally("ABC", OPEN_NS + 2))


def test_a_tally_older_than_the_symbols_last_print_is_late() -> None:
    aggregator = BarAggregator(intervals=(60,))
    aggregator.add_tally(_tally("ABC", OPEN_NS + MINUTE))
    assert aggregator.add_tally(_tally("ABC", OPEN_NS)) == []
    assert aggregator.late_ticks == 1


def test_a_tally_in_a_later_bucket_closes_the_open_bar() -> None:
    aggregator = BarAggregator(intervals=(60,))
    aggregator.add_tally(_tally("ABC", OPEN_NS + 1))
    (closed,) = aggregator.add_tally(_tally("ABC", OPEN_NS + MINUTE + 1))
    assert closed.ts_ns == OPEN_NS and closed.vwap == 10.0
