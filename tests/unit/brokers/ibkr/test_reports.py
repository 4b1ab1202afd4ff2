"""ReportBook: each execution once and with its fee, each order status once."""

from __future__ import annotations

from decimal import Decimal

from app.brokers.ibkr.reports import ReportBook
from app.domain.execution import ExecutionReport, ReportKind
from app.domain.signal import Side
from tests.unit.brokers.ibkr.ib_objects import EXEC_TIME_NS, ib_fill, ib_trade

NOW = 42


def test_a_fill_is_reported_with_its_commission_and_venue_time() -> None:
    (report,) = ReportBook().fill_seen(ib_fill("e-1", "c-1", shares=30.0, price=10.015))
    assert report == ExecutionReport(
        kind=ReportKind.FILL,
        client_order_id="c-1",
        symbol="ABC",
        side=Side.BUY,
        ts_ns=EXEC_TIME_NS,
        broker_order_id="9001",
        execution_id="e-1",
        last_qty=Decimal(30),
        last_price=Decimal("10.015"),
        fee=Decimal("1.25"),
    )


def test_an_execution_waits_for_its_commission_report() -> None:
    book = ReportBook()
    fill = ib_fill("e-1", "c-1", commission=None)
    assert book.fill_seen(fill) == []
    assert book.commissions_arrived() == []
    assert book.waiting == 1

    fill.commissionReport.execId = "e-1"
    fill.commissionReport.commission = 2.5
    (report,) = book.commissions_arrived()
    assert (report.execution_id, report.fee, book.waiting) == ("e-1", Decimal("2.50"), 0)


def test_an_execution_seen_again_is_not_reported_again() -> None:
    book = ReportBook()
    assert len(book.fill_seen(ib_fill("e-1", "c-1"))) == 1
    assert book.fill_seen(ib_fill("e-1", "c-1")) == []
    assert len(book.fill_seen(ib_fill("e-2", "c-1"))) == 1


def test_held_executions_are_dropped_with_the_connection_and_booked_when_replayed() -> None:
    book = ReportBook()
    book.fill_seen(ib_fill("e-1", "c-1", commission=None))
    book.forget_waiting()
    assert book.waiting == 0
    assert [r.execution_id for r in book.fill_seen(ib_fill("e-1", "c-1"))] == ["e-1"]


def test_unusable_executions_are_quarantined_and_foreign_ones_ignored() -> None:
    book = ReportBook()
    assert book.fill_seen(ib_fill("e-1", "c-1", price=0.0)) == []
    assert book.fill_seen(ib_fill("e-2", "c-1", price=float("nan"))) == []
    assert book.fill_seen(ib_fill("e-3", "")) == []
    assert book.quarantined == 2


def test_acceptance_and_end_are_each_reported_once() -> None:
    book = ReportBook()
    (accepted,) = book.status_seen(ib_trade("c-1"), now_ns=NOW)
    assert (accepted.kind, accepted.ts_ns, accepted.broker_order_id) == (
        ReportKind.ACCEPTED,
        NOW,
        "9001",
    )
    assert book.status_seen(ib_trade("c-1", status="PreSubmitted"), now_ns=NOW) == []
    (ended,) = book.status_seen(ib_trade("c-1", status="Cancelled", errors=(202,)), now_ns=NOW)
    assert (ended.kind, ended.reason) == (ReportKind.CANCELED, "error 202")
    assert book.status_seen(ib_trade("c-1", status="Cancelled"), now_ns=NOW) == []


def test_a_cancel_carrying_a_rejection_code_is_a_rejection() -> None:
    (report,) = ReportBook().status_seen(
        ib_trade("c-1", status="Cancelled", perm_id=0, errors=(201,)), now_ns=NOW
    )
    assert (report.kind, report.broker_order_id) == (ReportKind.REJECTED, "")


def test_filled_ends_the_order_without_a_status_report() -> None:
    book = ReportBook()
    assert book.status_seen(ib_trade("c-1", status="Filled"), now_ns=NOW) == []
    assert book.status_seen(ib_trade("c-1", status="Cancelled"), now_ns=NOW) == []


def test_a_replace_ends_the_old_id_and_accepts_the_new() -> None:
    book = ReportBook()
    trade = ib_trade("c-2")
    reports = book.replaced(trade, old_coid="c-1", now_ns=NOW)
    assert [(r.kind, r.client_order_id) for r in reports] == [
        (ReportKind.REPLACED, "c-1"),
        (ReportKind.ACCEPTED, "c-2"),
    ]
    assert book.status_seen(trade, now_ns=NOW) == []


def test_an_accepted_order_refused_later_ends_canceled() -> None:
    book = ReportBook()
    book.status_seen(ib_trade("c-1"), now_ns=NOW)
    (report,) = book.status_seen(ib_trade("c-1", status="Cancelled", errors=(201,)), now_ns=NOW)
    assert report.kind is ReportKind.CANCELED
