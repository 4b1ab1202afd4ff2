from decimal import Decimal

from app.domain.execution import ExecutionReport, ReportKind
from app.domain.order import OrderStatus, OrderType
from app.domain.signal import Side, Signal, SignalKind
from app.engine.execution import ExecutionEngine, ReportOutcome
from app.engine.portfolio import Portfolio
from app.risk.book import RiskBook, RiskLimits
from app.risk.chain import RiskChain
from app.risk.rules import MaxExposureRule
from app.risk.sizing import FixedFractionalSizer, SizingConfig
from tests.builders import OPEN_NS, entry_signal


def _engine(limit: str = "50000") -> ExecutionEngine:
    return ExecutionEngine(
        portfolio=Portfolio(starting_cash=Decimal("100000")),
        sizer=FixedFractionalSizer(SizingConfig(Decimal("0.5"), Decimal("10000"))),
        risk=RiskChain([MaxExposureRule(limit=Decimal(limit))]),
        risk_book=RiskBook(RiskLimits()),
        order_ttl_ns=30_000_000_000,
    )


def _fill(coid: str, exec_id: str, qty: str, price: str, side: Side = Side.BUY) -> ExecutionReport:
    return ExecutionReport(
        kind=ReportKind.FILL,
        client_order_id=coid,
        symbol="ABC",
        side=side,
        ts_ns=OPEN_NS + 1,
        execution_id=exec_id,
        last_qty=Decimal(qty),
        last_price=Decimal(price),
    )


def _book(engine: ExecutionEngine, report: ExecutionReport) -> None:
    effect = engine.on_report(report)
    assert effect.outcome is ReportOutcome.FILL and effect.fill_effect is not None
    engine.commit_fill(effect.fill_effect)


def test_entry_is_sized_from_the_stop_and_capped_by_value() -> None:
    engine = _engine()
    decision, order = engine.decide(entry_signal(price=10.0, stop=9.7), now_ns=OPEN_NS)
    assert decision.approved and order is not None
    assert order.qty == Decimal("1000")  # $500 / $0.30 = 1666, capped at $10,000 / $10
    assert order.order_type is OrderType.LIMIT
    assert order.limit_price == Decimal("10.05")  # marketable: 50 bps collar above $10.00
    assert order.client_order_id == decision.client_order_id
    assert order.expires_ns == OPEN_NS + 30_000_000_000


def test_same_signal_twice_gives_one_order() -> None:
    engine = _engine()
    _, order = engine.decide(entry_signal(), now_ns=OPEN_NS)
    assert order is not None
    engine.track(order)
    decision, again = engine.decide(entry_signal(), now_ns=OPEN_NS)
    assert again is None and not decision.approved


def test_second_entry_while_working_is_refused() -> None:
    engine = _engine()
    _, order = engine.decide(entry_signal(key="a"), now_ns=OPEN_NS)
    assert order is not None
    engine.track(order)
    decision, second = engine.decide(entry_signal(key="b"), now_ns=OPEN_NS)
    assert second is None and "already" in decision.reason


def test_exposure_counts_working_orders() -> None:
    engine = _engine(limit="15000")
    _, first = engine.decide(entry_signal(symbol="AAA", key="a"), now_ns=OPEN_NS)
    assert first is not None
    engine.track(first)
    decision, second = engine.decide(entry_signal(symbol="BBB", key="b"), now_ns=OPEN_NS)
    assert second is not None and second.qty == Decimal("492")  # $4,950 left at $10.05
    assert "max_exposure" in decision.checks


def test_fills_update_order_and_book_then_exit_realizes_pnl() -> None:
    engine = _engine()
    _, entry = engine.decide(entry_signal(), now_ns=OPEN_NS)
    assert entry is not None
    engine.track(entry)
    _book(engine, _fill(entry.client_order_id, "x1", "400", "10.00"))
    _book(engine, _fill(entry.client_order_id, "x2", "600", "10.05"))
    assert engine.orders.get(entry.client_order_id) is None  # filled orders leave memory
    (lot,) = engine.portfolio.open_lots("s", "ABC")
    assert lot.avg_price == Decimal("10.03") and lot.qty_open == Decimal("1000")
    exit_signal = Signal(
        "s",
        "ABC",
        Side.SELL,
        SignalKind.EXIT,
        OPEN_NS + 5,
        10.5,
        "exit|1",
        closes=entry.client_order_id,
        qty=Decimal("1000"),
    )
    decision, exit_order = engine.decide(exit_signal, now_ns=OPEN_NS + 5)
    assert decision.approved and exit_order is not None
    engine.track(exit_order)
    _book(engine, _fill(exit_order.client_order_id, "x3", "1000", "10.50", Side.SELL))
    assert engine.portfolio.realized() == Decimal("470.00")
    assert engine.portfolio.open_lots("s", "ABC") == []


def test_duplicate_fill_is_recognised_once_seen() -> None:
    engine = _engine()
    _, entry = engine.decide(entry_signal(), now_ns=OPEN_NS)
    assert entry is not None
    entry_qty = entry.qty
    engine.track(entry)
    _book(engine, _fill(entry.client_order_id, "x1", "10", "10.00"))
    again = engine.on_report(_fill(entry.client_order_id, "x1", "10", "10.00"))
    assert again.outcome is ReportOutcome.DUPLICATE_FILL
    assert engine.orders[entry.client_order_id].filled_qty == Decimal("10") < entry_qty


def test_exit_for_unknown_lot_is_refused_and_ack_after_fill_ignored() -> None:
    engine = _engine()
    stray = Signal("s", "ABC", Side.SELL, SignalKind.EXIT, OPEN_NS, 10.0, "exit|x", closes="nope")
    decision, order = engine.decide(stray, now_ns=OPEN_NS)
    assert order is None and "nothing open" in decision.reason
    _, entry = engine.decide(entry_signal(), now_ns=OPEN_NS)
    assert entry is not None
    engine.track(entry)
    _book(engine, _fill(entry.client_order_id, "x1", "10", "10.00"))
    ack = ExecutionReport(ReportKind.ACCEPTED, entry.client_order_id, "ABC", Side.BUY, OPEN_NS)
    assert engine.on_report(ack).outcome is ReportOutcome.IGNORED
    assert engine.orders[entry.client_order_id].status is OrderStatus.PARTIALLY_FILLED


def test_reloaded_working_entry_still_reserves_exposure() -> None:
    first = _engine(limit="15000")
    _, working = first.decide(entry_signal(symbol="AAA", key="a"), now_ns=OPEN_NS)
    assert working is not None and working.ref_price == Decimal("10.00")
    restarted = _engine(limit="15000")
    restarted.load([working])
    assert restarted.view.committed_exposure() == Decimal("10050.00")
    _, second = restarted.decide(entry_signal(symbol="BBB", key="b"), now_ns=OPEN_NS)
    assert second is not None and second.qty == Decimal("492")
