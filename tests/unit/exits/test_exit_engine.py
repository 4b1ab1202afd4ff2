from decimal import Decimal

from app.domain.position import Lot
from app.domain.signal import Side, SignalKind
from app.exits.config import ExitConfig, ExitReason
from app.exits.engine import EXIT_PRIORITY, ExitEngine
from tests.builders import MINUTE, OPEN_NS, SECOND, bar

CONFIG = ExitConfig(stop_pct=2.0, target_pct=4.0, max_hold_s=600, flatten_before_close_s=300)


def _lot(side: Side = Side.BUY) -> Lot:
    return Lot(
        entry_order_id="e1",
        strategy="s",
        symbol="ABC",
        side=side,
        opened_ns=OPEN_NS,
        qty_filled=Decimal("100"),
        qty_open=Decimal("100"),
        avg_price=Decimal("10.00"),
    )


def _engine() -> ExitEngine:
    return ExitEngine({"s": CONFIG}, default=ExitConfig())


def test_stop_target_time_and_session_end() -> None:
    engine = _engine()
    lot = _lot()
    t = OPEN_NS + MINUTE
    assert engine.decide(bar(ts_ns=t, interval_s=1, low=9.79, h=10.0), lot) is ExitReason.STOP
    assert engine.decide(bar(ts_ns=t, interval_s=1, low=9.9, h=10.41), lot) is ExitReason.TARGET
    assert engine.decide(bar(ts_ns=t, interval_s=1, low=9.9, h=10.1), lot) is None
    late = OPEN_NS + 600 * SECOND
    assert engine.decide(bar(ts_ns=late, interval_s=1, low=9.9, h=10.1), lot) is ExitReason.TIME
    patient = ExitEngine({"s": ExitConfig(max_hold_s=10**6)}, default=ExitConfig())
    close_minus_4m = OPEN_NS + (390 - 4) * MINUTE
    assert (
        patient.decide(bar(ts_ns=close_minus_4m, interval_s=1, low=9.9, h=10.1), lot)
        is ExitReason.SESSION_END
    )


def test_short_lot_stops_above() -> None:
    lot = _lot(Side.SELL)
    assert _engine().decide(bar(interval_s=1, h=10.21, low=10.0), lot) is ExitReason.STOP
    assert _engine().decide(bar(interval_s=1, h=10.1, low=9.59), lot) is ExitReason.TARGET


def test_exit_signal_closes_the_lot_with_priority_over_entries() -> None:
    (signal,) = _engine().on_bar(bar(interval_s=1, low=9.0), [_lot()], attempt_of={"e1": 2})
    assert signal.kind is SignalKind.EXIT and signal.side is Side.SELL
    assert signal.closes == "e1" and signal.qty == Decimal("100")
    assert signal.priority == EXIT_PRIORITY and signal.reason == "stop"
    assert signal.dedup_key == "exit|e1|2"


def test_closed_lot_needs_no_exit() -> None:
    lot = _lot()
    lot.qty_open = Decimal(0)
    assert _engine().on_bar(bar(interval_s=1, low=1.0), [lot], attempt_of={}) == []
