"""SimVenue account: exact cash, positions and equity; deterministic ids; fault knobs."""

from __future__ import annotations

from decimal import Decimal

from app.brokers.sim.fill_model import FillModel
from app.domain.execution import ExecutionReport, ReportKind
from app.domain.market import TickBatch
from app.domain.signal import Side
from app.ports.broker import BrokerAccount, BrokerPosition
from tests.unit.brokers.sim_builders import kinds, make_order, make_tick, make_venue

FEES = FillModel(spread_aware=False, fee_per_share=Decimal("0.005"), fee_min=Decimal("1.00"))


def test_long_round_trip_books_cash_and_equity_exactly() -> None:
    venue = make_venue(fills=FEES)
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order("buy"), now_ns=1_000)
    venue.on_tick(make_tick(2_000, 10.0))
    assert venue.positions() == [
        BrokerPosition(symbol="ABC", qty=Decimal("100"), avg_price=Decimal("10.00"))
    ]
    venue.on_tick(make_tick(3_000, 10.5))
    assert venue.account() == BrokerAccount(
        cash=Decimal("98999.00"), equity=Decimal("100049.00"), buying_power=Decimal("98999.00")
    )

    venue.submit(make_order("sell", side=Side.SELL), now_ns=4_000)
    venue.on_tick(make_tick(5_000, 10.5))

    assert venue.positions() == []
    assert venue.account() == BrokerAccount(
        cash=Decimal("100048.00"), equity=Decimal("100048.00"), buying_power=Decimal("100048.00")
    )
    assert [e.fee for e in venue.ledger.executions] == [Decimal("1.00"), Decimal("1.00")]


def test_short_round_trip_books_cash_and_equity_exactly() -> None:
    venue = make_venue(fills=FEES)
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order("short", side=Side.SELL), now_ns=1_000)
    venue.on_tick(make_tick(2_000, 10.0))
    venue.on_tick(make_tick(3_000, 9.5))
    assert venue.positions() == [
        BrokerPosition(symbol="ABC", qty=Decimal("-100"), avg_price=Decimal("10.00"))
    ]
    account = venue.account()
    assert (account.cash, account.equity) == (Decimal("100999.00"), Decimal("100049.00"))

    venue.submit(make_order("cover", side=Side.BUY), now_ns=4_000)
    venue.on_tick(make_tick(5_000, 9.5))

    assert venue.positions() == []
    assert venue.account().cash == Decimal("100048.00")


def test_position_average_price_follows_adds_reductions_and_flips() -> None:
    venue = make_venue()
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order("a"), now_ns=1_000)
    venue.on_tick(make_tick(2_000, 10.0))
    venue.submit(make_order("b"), now_ns=3_000)
    venue.on_tick(make_tick(4_000, 11.0))
    assert venue.positions()[0].avg_price == Decimal("10.5")
    venue.submit(make_order("c", side=Side.SELL, qty="150"), now_ns=5_000)
    venue.on_tick(make_tick(6_000, 11.0))
    assert venue.positions() == [
        BrokerPosition(symbol="ABC", qty=Decimal("50"), avg_price=Decimal("10.5"))
    ]
    venue.submit(make_order("d", side=Side.SELL, qty="100"), now_ns=7_000)
    venue.on_tick(make_tick(8_000, 12.0))
    assert venue.positions() == [
        BrokerPosition(symbol="ABC", qty=Decimal("-50"), avg_price=Decimal("12.00"))
    ]


def test_a_short_uses_buying_power_like_a_long() -> None:
    venue = make_venue(cash="10000")
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order(side=Side.SELL), now_ns=1_000)
    venue.on_tick(make_tick(2_000, 10.0))
    assert venue.account() == BrokerAccount(
        cash=Decimal("11000.00"), equity=Decimal("10000.00"), buying_power=Decimal("9000.00")
    )


def _scenario() -> list[ExecutionReport]:
    venue = make_venue(fills=FillModel(participation=Decimal("0.1"), spread_aware=False))
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order("a", qty="50"), now_ns=1_000)
    venue.submit(make_order("b", side=Side.SELL, qty="30", limit="10.05"), now_ns=1_000)
    venue.on_batch(TickBatch(ticks=[make_tick(2_000 + i, 10.0 + i / 100, 100) for i in range(8)]))
    return venue.drain_reports()


def test_a_replay_repeats_every_report_and_execution_id_exactly() -> None:
    first, second = _scenario(), _scenario()
    assert first == second
    execution_ids = [r.execution_id for r in first if r.kind is ReportKind.FILL]
    assert len(execution_ids) == len(set(execution_ids)) == 8
    assert all(eid is not None and eid.startswith("sim-exec-t-") for eid in execution_ids)
    assert all(r.broker_order_id.startswith("sim-ord-t-") for r in first)


def test_fill_before_ack_emits_the_first_fill_before_the_ack() -> None:
    venue = make_venue(
        fill_before_ack=True, fills=FillModel(participation=Decimal("0.5"), spread_aware=False)
    )
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order("mkt"), now_ns=1_000)
    assert venue.drain_reports() == []
    venue.on_batch(TickBatch(ticks=[make_tick(2_000, 10.0, 100), make_tick(3_000, 10.0, 100)]))
    reports = venue.drain_reports()
    assert [r.kind for r in reports] == [ReportKind.FILL, ReportKind.ACCEPTED, ReportKind.FILL]
    assert reports[1].ts_ns == 1_000


def test_fill_before_ack_still_acks_before_a_cancel() -> None:
    venue = make_venue(fill_before_ack=True)
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order("lmt", limit="9.00"), now_ns=1_000)
    venue.cancel("lmt", now_ns=2_000)
    assert kinds(venue.drain_reports()) == [
        (ReportKind.ACCEPTED, "lmt"),
        (ReportKind.CANCELED, "lmt"),
    ]


def test_duplicate_fill_reports_replay_each_fill_but_book_it_once() -> None:
    venue = make_venue(duplicate_fill_reports=True)
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order(), now_ns=1_000)
    venue.on_tick(make_tick(2_000, 10.0))
    reports = venue.drain_reports()
    assert [r.kind for r in reports] == [ReportKind.ACCEPTED, ReportKind.FILL, ReportKind.FILL]
    assert reports[1] == reports[2]
    assert len(venue.ledger.executions) == 1
    assert venue.account().cash == Decimal("99000.00")


def test_seeded_positions_keep_cash_and_are_marked_at_their_average_until_a_print() -> None:
    venue = make_venue(cash="9000")
    venue.seed_position("ABC", qty=Decimal("100"), avg_price=Decimal("10.00"))
    venue.seed_position("ABC", qty=Decimal("100"), avg_price=Decimal("11.00"))
    venue.seed_position("XYZ", qty=Decimal("-50"), avg_price=Decimal("20.00"))
    assert venue.positions() == [
        BrokerPosition(symbol="ABC", qty=Decimal("200"), avg_price=Decimal("10.5")),
        BrokerPosition(symbol="XYZ", qty=Decimal("-50"), avg_price=Decimal("20.00")),
    ]
    assert venue.account().cash == Decimal("9000")
    assert venue.account().equity == Decimal("9000") + Decimal("2100") - Decimal("1000")

    venue.submit(make_order("exit", side=Side.SELL, qty="200"), now_ns=1_000)
    venue.on_tick(make_tick(2_000, 12.0))

    assert venue.account().cash == Decimal("11400.00")
    assert venue.positions() == [
        BrokerPosition(symbol="XYZ", qty=Decimal("-50"), avg_price=Decimal("20.00"))
    ]
