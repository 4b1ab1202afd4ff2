import itertools
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.market import Tick
from app.domain.position import Lot
from app.domain.signal import Side, Signal, SignalKind
from app.engine.bars import BarAggregator
from app.engine.shard import ShardEngine
from app.exits.config import ExitConfig
from app.exits.engine import ExitEngine
from app.strategies.breakout import Breakout, BreakoutParams
from tests.builders import MINUTE, OPEN_NS, SECOND


def _engine() -> ShardEngine:
    strategy = Breakout(BreakoutParams(lookback=3, volume_mult=1.5, min_minutes_into_session=1))
    return ShardEngine(
        strategies=[strategy],
        exits=ExitEngine({}, default=ExitConfig(stop_pct=2.0)),
        aggregator=BarAggregator(intervals=(1, 60)),
    )


def _tape() -> list[Tick]:
    """Five quiet minutes on ABC then a high-volume breakout minute; XYZ trades throughout."""
    ticks: list[Tick] = []
    seq = 0
    for minute in range(7):
        for second in range(0, 60, 10):
            ts = OPEN_NS + minute * MINUTE + second * SECOND
            seq += 1
            breakout = minute == 5
            price = 10.5 + second / 100 if breakout else 10.0 + (second % 20) / 100
            ticks.append(Tick("ABC", ts, price, 5_000 if breakout else 100, seq))
            ticks.append(Tick("XYZ", ts + 1, 5.0, 100, seq))
    return ticks


def _run(batches: list[list[Tick]]) -> list[Signal]:
    engine = _engine()
    return [s for batch in batches for s in engine.on_ticks(batch)]


def test_a_breakout_minute_gives_one_entry_signal() -> None:
    signals = _run([_tape()])
    (entry,) = [s for s in signals if s.symbol == "ABC"]
    assert entry.kind is SignalKind.ENTRY and entry.ts_ns == OPEN_NS + 6 * MINUTE
    assert entry.price_ts_ns == OPEN_NS + 6 * MINUTE  # ABC's first print of the next minute


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=20))
def test_batching_does_not_change_the_signals(cuts: list[int]) -> None:
    tape = _tape()
    batches, start = [], 0
    for size in cuts:
        batches.append(tape[start : start + size])
        start += size
    batches.append(tape[start:])
    assert _run(batches) == _run([tape])


def test_exits_watch_applied_lots_and_exit_state_is_drained() -> None:
    engine = _engine()
    lot = Lot("e1", "breakout", "XYZ", Side.BUY, OPEN_NS, Decimal(10), Decimal(10), Decimal("5.00"))
    engine.apply_lot(lot)
    ticks = [Tick("XYZ", OPEN_NS + i * SECOND, 5.2, 100, i + 1) for i in range(3)]
    ticks.append(Tick("XYZ", OPEN_NS + 3 * SECOND, 4.8, 100, 4))
    ticks.append(Tick("XYZ", OPEN_NS + 5 * SECOND, 4.8, 100, 5))
    signals = engine.on_ticks(ticks)
    (stop,) = signals
    assert stop.kind is SignalKind.EXIT and stop.reason == "stop" and stop.closes == "e1"
    (state,) = engine.drain_exit_states()
    assert state.best_price == 5.2
    assert engine.drain_exit_states() == []
    engine.apply_lot(Lot("e1", "breakout", "XYZ", Side.BUY, OPEN_NS, Decimal(10), Decimal(0)))
    assert engine.open_lots("XYZ") == []


def test_warm_up_replays_history_silently_then_trades_at_once() -> None:
    tape = _tape()
    live_from = next(i for i, t in enumerate(tape) if t.ts_ns >= OPEN_NS + 5 * MINUTE)
    cold = _engine()
    assert [s for s in cold.on_ticks(tape[live_from:]) if s.symbol == "ABC"] == []
    warm = _engine()
    lot = Lot("e1", "breakout", "XYZ", Side.BUY, OPEN_NS, Decimal(10), Decimal(10), Decimal("9"))
    warm.apply_lot(lot)  # a lot the history would have stopped out: no exit from the past
    warm.warm(tape[:live_from])
    assert warm.drain_exit_states() == []
    (entry,) = [s for s in warm.on_ticks(tape[live_from:]) if s.symbol == "ABC"]
    assert entry.kind is SignalKind.ENTRY


def test_a_signal_carries_the_symbols_recent_minute_returns() -> None:
    (entry,) = [s for s in _run([_tape()]) if s.symbol == "ABC"]
    closes = [10.1, 10.1, 10.1, 10.1, 10.1, 10.5 + 0.5]  # each minute's last print
    expected = [b / a - 1 for a, b in itertools.pairwise(closes)]
    assert entry.returns == pytest.approx(expected)


def test_reconfigure_swaps_strategies_and_demands_only_what_is_new() -> None:
    engine = _engine()
    engine.on_ticks(_tape()[:40])
    book = engine._books[60]
    before = set(book.plan.order)
    patient = Breakout(BreakoutParams(lookback=9, volume_mult=1.5, min_minutes_into_session=1))
    engine.reconfigure([patient])
    added = set(book.plan.order) - before
    assert engine.strategies == (patient,)
    assert {spec.key for spec in added} == {"max_9_high", "sma_9_volume"}
    assert not [s for s in engine.on_ticks(_tape()[40:]) if s.kind is SignalKind.ENTRY]
