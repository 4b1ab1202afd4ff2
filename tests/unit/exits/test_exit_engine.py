from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.exit_state import ExitState
from app.domain.position import Lot
from app.domain.signal import Side, SignalKind
from app.exits.config import ExitConfig, ExitReason, Target
from app.exits.engine import EXIT_PRIORITY, ExitEngine
from tests.builders import MINUTE, OPEN_NS, SECOND, bar

CONFIG = ExitConfig(
    stop_pct=2.0, targets=(Target(4.0, 1.0),), max_hold_s=600, flatten_before_close_s=300
)


def _lot(side: Side = Side.BUY, qty: str = "100") -> Lot:
    return Lot(
        entry_order_id="e1",
        strategy="s",
        symbol="ABC",
        side=side,
        opened_ns=OPEN_NS,
        qty_filled=Decimal(qty),
        qty_open=Decimal(qty),
        avg_price=Decimal("10.00"),
    )


def _engine(config: ExitConfig = CONFIG) -> ExitEngine:
    return ExitEngine({"s": config}, default=ExitConfig())


def _decide(engine: ExitEngine, lot: Lot, **bar_args: float | int) -> ExitReason | None:
    b = bar(interval_s=1, **bar_args)  # type: ignore[arg-type]
    state = engine.track(b, lot, None)
    decision = engine.decide(b, lot, state, now_ns=b.end_ns)
    return None if decision is None else decision.reason


def test_stop_target_time_and_session_end() -> None:
    engine, lot = _engine(), _lot()
    t = OPEN_NS + MINUTE
    assert _decide(engine, lot, ts_ns=t, low=9.79, h=10.0) is ExitReason.STOP
    assert _decide(engine, lot, ts_ns=t, low=9.9, h=10.41) is ExitReason.TARGET
    assert _decide(engine, lot, ts_ns=t, low=9.9, h=10.1) is None
    late = OPEN_NS + 600 * SECOND
    assert _decide(engine, lot, ts_ns=late, low=9.9, h=10.1) is ExitReason.TIME
    patient = _engine(ExitConfig(max_hold_s=10**6))
    near_close = OPEN_NS + (390 - 4) * MINUTE
    assert _decide(patient, lot, ts_ns=near_close, low=9.9, h=10.1) is ExitReason.SESSION_END


def test_short_lot_stops_above() -> None:
    lot = _lot(Side.SELL)
    assert _decide(_engine(), lot, h=10.21, low=10.0) is ExitReason.STOP
    assert _decide(_engine(), lot, h=10.1, low=9.59) is ExitReason.TARGET


def test_stale_bar_gets_no_decision() -> None:
    engine, lot = _engine(), _lot()
    b = bar(interval_s=1, low=9.0)
    state = engine.track(b, lot, None)
    assert engine.decide(b, lot, state, now_ns=b.end_ns + 6 * SECOND) is None
    assert engine.decide(b, lot, state, now_ns=b.end_ns + 4 * SECOND) is not None


def test_trailing_stop_follows_the_best_price() -> None:
    engine = _engine(ExitConfig(stop_pct=5.0, trailing_pct=2.0, targets=(Target(50.0, 1.0),)))
    lot = _lot()
    state = engine.track(bar(interval_s=1, h=11.0, low=10.9), lot, None)
    assert state.best_price == 11.0
    assert (
        engine.decide(bar(interval_s=1, h=10.9, low=10.77), lot, state, now_ns=OPEN_NS) is not None
    )
    quiet = bar(interval_s=1, h=10.9, low=10.79)  # trail is 11.00 - 2% = 10.78
    assert engine.decide(quiet, lot, state, now_ns=OPEN_NS) is None


def test_scaled_targets_take_partial_exits_then_the_rest() -> None:
    config = ExitConfig(targets=(Target(2.0, 0.5), Target(4.0, 1.0)))
    engine = _engine(config)
    lot = _lot(qty="101")
    signals, states = engine.on_bar(
        bar(interval_s=1, h=10.25, low=10.1), [lot], states={}, now_ns=OPEN_NS + SECOND
    )
    (first,) = signals
    assert first.qty == Decimal("50") and first.reason == "target"
    assert states["e1"].targets_hit == 1
    lot.qty_open = Decimal("51")
    again, _ = engine.on_bar(
        bar(interval_s=1, h=10.3, low=10.2), [lot], states=states, now_ns=OPEN_NS + SECOND
    )
    assert again == []
    final, done = engine.on_bar(
        bar(ts_ns=OPEN_NS + 2 * SECOND, interval_s=1, h=10.45, low=10.3),
        [lot],
        states=states,
        now_ns=OPEN_NS + 3 * SECOND,
    )
    assert final[0].qty == Decimal("51") and done["e1"].targets_hit == 2
    assert final[0].dedup_key != first.dedup_key


def test_exit_signal_closes_the_lot_with_priority_over_entries() -> None:
    (signal,), _ = _engine().on_bar(
        bar(interval_s=1, low=9.0), [_lot()], states={}, now_ns=OPEN_NS + SECOND
    )
    assert signal.kind is SignalKind.EXIT and signal.side is Side.SELL
    assert signal.closes == "e1" and signal.qty == Decimal("100")
    assert signal.priority == EXIT_PRIORITY and signal.reason == "stop"


def test_bad_configs_are_refused() -> None:
    with pytest.raises(ValueError):
        ExitConfig(targets=(Target(4.0, 0.5), Target(2.0, 1.0)))
    with pytest.raises(ValueError):
        ExitConfig(trailing_pct=0)
    with pytest.raises(ValueError):
        Target(1.0, 1.5)


@given(st.lists(st.tuples(st.floats(5, 20), st.floats(0, 2)), min_size=1, max_size=40))
def test_trailing_stop_never_loosens(moves: list[tuple[float, float]]) -> None:
    config = ExitConfig(stop_pct=50.0, trailing_pct=3.0)
    engine = _engine(config)
    lot = _lot()
    state: ExitState | None = None
    last_trail = 0.0
    for high, spread in moves:
        state = engine.track(bar(interval_s=1, h=high, low=max(0.01, high - spread)), lot, state)
        trail = config.trailing_price(state.best_price, long=True)
        assert trail is not None and trail >= last_trail
        last_trail = trail


def test_atr_trailing_waits_for_a_warm_atr_and_takes_the_tighter_trail() -> None:
    config = ExitConfig(stop_pct=50.0, trailing_atr=2.0, trailing_pct=10.0)
    assert config.trailing_price(11.0, long=True, atr=None) == 11.0 - 1.1
    assert config.trailing_price(11.0, long=True, atr=float("nan")) == 11.0 - 1.1
    assert config.trailing_price(11.0, long=True, atr=0.25) == 10.5
    only_atr = ExitConfig(stop_pct=50.0, trailing_atr=2.0)
    assert only_atr.trailing_price(11.0, long=True, atr=None) is None
    engine = _engine(only_atr)
    lot = _lot()
    state = ExitState("e1", best_price=11.0)
    dip = bar(interval_s=1, h=10.6, low=10.49)
    decision = engine.decide(dip, lot, state, now_ns=dip.end_ns, atr=0.25)
    assert decision is not None and decision.reason is ExitReason.TRAILING_STOP
    assert engine.decide(dip, lot, state, now_ns=dip.end_ns, atr=None) is None
