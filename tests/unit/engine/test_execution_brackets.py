"""The executor's side of bracket legs: sent with the entry, tracked, in an exit's way."""

from __future__ import annotations

from decimal import Decimal

from app.arbitration import Arbiter, ArbiterConfig, StrategyPolicy
from app.domain.bracket import BracketSpec
from app.domain.execution import ExecutionReport, ReportKind
from app.domain.order import Order, OrderStatus, OrderType
from app.domain.signal import Side, Signal, SignalKind
from app.engine.execution import ExecutionEngine, ReportOutcome
from app.engine.portfolio import Portfolio
from app.risk.book import RiskBook, RiskLimits
from app.risk.chain import RiskChain
from app.risk.sizing import FixedFractionalSizer, SizingConfig
from tests.builders import OPEN_NS, SECOND, entry_signal

TTL_NS = 30 * SECOND
LEGS = BracketSpec(stop_pct=3.0, target_pct=6.0)


def _engine(spec: BracketSpec | None = LEGS) -> ExecutionEngine:
    return ExecutionEngine(
        portfolio=Portfolio(starting_cash=Decimal("100000")),
        sizer=FixedFractionalSizer(SizingConfig(Decimal("0.5"), Decimal("10000"))),
        risk=RiskChain([]),
        risk_book=RiskBook(RiskLimits()),
        order_ttl_ns=TTL_NS,
        arbiter=Arbiter(ArbiterConfig(), {"s": StrategyPolicy(bracket=spec)}),
    )


def _report(kind: ReportKind, coid: str) -> ExecutionReport:
    return ExecutionReport(
        kind=kind, client_order_id=coid, symbol="ABC", side=Side.BUY, ts_ns=OPEN_NS + 1
    )


def _apply(engine: ExecutionEngine, report: ExecutionReport) -> None:
    effect = engine.on_report(report)
    if effect.outcome is ReportOutcome.FILL:
        assert effect.fill_effect is not None
        engine.commit_fill(effect.fill_effect)
    elif effect.outcome is ReportOutcome.ORDER_UPDATED:
        assert effect.order is not None
        engine.commit_order(effect.order)


def _fill(coid: str, qty: str, price: str, side: Side = Side.BUY) -> ExecutionReport:
    return ExecutionReport(
        kind=ReportKind.FILL,
        client_order_id=coid,
        symbol="ABC",
        side=side,
        ts_ns=OPEN_NS + 1,
        execution_id=f"x-{coid}-{qty}",
        last_qty=Decimal(qty),
        last_price=Decimal(price),
    )


def _exit(entry: str, reason: str, *, key: str) -> Signal:
    return Signal(
        strategy="s",
        symbol="ABC",
        side=Side.SELL,
        kind=SignalKind.EXIT,
        ts_ns=OPEN_NS + 60 * SECOND,
        price=10.0,
        dedup_key=key,
        reason=reason,
        closes=entry,
    )


def _entered(engine: ExecutionEngine) -> Order:
    _, order = engine.decide(entry_signal(price=10.0, stop=9.7), now_ns=OPEN_NS)
    assert order is not None
    engine.track(order)
    return order


def test_an_entry_carries_its_legs_prices_and_tracks_both_legs() -> None:
    engine = _engine()
    entry = _entered(engine)
    assert (entry.take_profit, entry.stop_loss) == (Decimal("10.60"), Decimal("9.70"))
    take_profit = engine.orders[f"{entry.client_order_id}-tp"]
    stop_loss = engine.orders[f"{entry.client_order_id}-sl"]
    assert take_profit.order_type is OrderType.LIMIT and take_profit.limit_price == Decimal("10.60")
    assert stop_loss.order_type is OrderType.STOP and stop_loss.stop_price == Decimal("9.70")
    for leg in (take_profit, stop_loss):
        assert leg.side is Side.SELL and leg.qty == entry.qty
        assert leg.closes == leg.parent == entry.client_order_id
        assert leg.status is OrderStatus.PENDING_NEW and not leg.is_entry
    engine.forget(entry)
    assert engine.orders == {}


def test_without_a_bracket_policy_entries_are_plain() -> None:
    engine = _engine(spec=None)
    entry = _entered(engine)
    assert not entry.has_bracket and list(engine.orders) == [entry.client_order_id]


def test_legs_that_would_not_clear_the_collar_refuse_the_entry() -> None:
    engine = _engine(BracketSpec(stop_pct=3.0, target_pct=0.2))  # target under the 50 bps limit
    decision, order = engine.decide(entry_signal(price=10.0, stop=9.7), now_ns=OPEN_NS)
    assert order is None and "beyond limit" in decision.reason


def test_stop_and_target_exits_stand_down_for_the_legs() -> None:
    engine = _engine()
    entry = _entered(engine)
    _apply(engine, _fill(entry.client_order_id, str(entry.qty), "10.00"))
    for reason in ("stop", "target"):
        decision, order = engine.decide(
            _exit(entry.client_order_id, reason, key=reason), now_ns=OPEN_NS
        )
        assert order is None and "bracket legs hold" in decision.reason
    assert engine.cancels_due(OPEN_NS) == []


def test_a_time_exit_has_the_legs_cancelled_first_then_goes_out() -> None:
    engine = _engine()
    entry = _entered(engine)
    coid = entry.client_order_id
    _apply(engine, _fill(coid, str(entry.qty), "10.00"))
    decision, order = engine.decide(_exit(coid, "time", key="t1"), now_ns=OPEN_NS)
    assert order is None and "cancelling the bracket legs first" in decision.reason
    due = [o.client_order_id for o in engine.cancels_due(OPEN_NS)]
    assert due == [f"{coid}-sl", f"{coid}-tp"]
    for leg in due:
        _apply(engine, _report(ReportKind.CANCELED, leg))
    assert engine.cancels_due(OPEN_NS) == []
    decision, order = engine.decide(_exit(coid, "time", key="t2"), now_ns=OPEN_NS)
    assert decision.approved and order is not None and order.order_type is OrderType.MARKET


def test_a_leg_fill_closes_the_lot_and_the_other_leg_is_cancelled() -> None:
    engine = _engine()
    entry = _entered(engine)
    coid = entry.client_order_id
    _apply(engine, _fill(coid, str(entry.qty), "10.00"))
    _apply(engine, _fill(f"{coid}-tp", str(entry.qty), "10.60", side=Side.SELL))
    lot = engine.portfolio.lots[coid]
    assert lot.qty_open == 0
    assert [o.client_order_id for o in engine.cancels_due(OPEN_NS)] == [f"{coid}-sl"]


def test_an_entry_that_ends_part_filled_has_its_legs_cancelled() -> None:
    engine = _engine()
    entry = _entered(engine)
    coid = entry.client_order_id
    _apply(engine, _report(ReportKind.ACCEPTED, coid))
    _apply(engine, _fill(coid, "10", "10.00"))
    assert engine.cancels_due(OPEN_NS) == []
    stale = engine.cancels_due(OPEN_NS + TTL_NS + 1)
    assert [o.client_order_id for o in stale] == [coid]
    _apply(engine, _report(ReportKind.CANCELED, coid))
    assert [o.client_order_id for o in engine.cancels_due(OPEN_NS)] == [f"{coid}-sl", f"{coid}-tp"]
    decision, _ = engine.decide(_exit(coid, "stop", key="s1"), now_ns=OPEN_NS)
    assert "bracket legs hold" in decision.reason  # until the venue confirms the cancels


def test_after_a_restart_legs_are_kept_only_while_they_guard_their_whole_lot() -> None:
    engine = _engine()
    entry = _entered(engine)
    coid = entry.client_order_id
    _apply(engine, _fill(coid, str(entry.qty), "10.00"))
    open_legs = [o for o in engine.orders.values() if o.is_leg]
    restarted = _engine()
    restarted.portfolio.load(lots=list(engine.portfolio.lots.values()), positions=[])
    restarted.load(open_legs)
    assert restarted.cancels_due(OPEN_NS) == []
    orphaned = _engine()
    orphaned.load(open_legs)  # no lot: the entry never filled, or the lot was closed
    assert len(orphaned.cancels_due(OPEN_NS)) == 2
