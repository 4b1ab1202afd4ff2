"""SimVenue order entry: cancel, replace, refusals and buying power."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.brokers.sim.fill_model import FillModel
from app.domain.execution import ReportKind
from app.domain.order import OrderStatus
from app.domain.signal import Side
from app.ports.broker import OrderRejected
from tests.unit.brokers.sim_builders import fills_of, kinds, make_order, make_tick, make_venue


def test_cancel_ends_a_resting_order_and_later_prints_do_not_fill_it() -> None:
    venue = make_venue()
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order(limit="9.00"), now_ns=1_000)
    venue.cancel("o-1", now_ns=2_000)
    venue.on_tick(make_tick(3_000, 8.0))
    reports = venue.drain_reports()
    assert kinds(reports) == [(ReportKind.ACCEPTED, "o-1"), (ReportKind.CANCELED, "o-1")]
    assert reports[1].ts_ns == 2_000
    order = venue.order("o-1")
    assert order is not None
    assert order.status is OrderStatus.CANCELED


def test_a_fill_inside_the_cancel_latency_wins_and_the_cancel_is_dropped() -> None:
    venue = make_venue(latency_ns=1_000)
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order(limit="9.00"), now_ns=1_000)
    venue.cancel("o-1", now_ns=5_000)
    venue.on_tick(make_tick(5_500, 9.0))
    venue.advance(10_000)
    assert [r.kind for r in venue.drain_reports()] == [ReportKind.ACCEPTED, ReportKind.FILL]
    order = venue.order("o-1")
    assert order is not None
    assert order.status is OrderStatus.FILLED


def test_cancelling_twice_is_idempotent_and_unknown_or_ended_orders_are_refused() -> None:
    venue = make_venue(latency_ns=1_000)
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order(limit="9.00"), now_ns=1_000)
    venue.cancel("o-1", now_ns=2_500)
    venue.cancel("o-1", now_ns=2_600)
    venue.advance(4_000)
    assert kinds(venue.drain_reports()).count((ReportKind.CANCELED, "o-1")) == 1
    with pytest.raises(OrderRejected, match="canceled"):
        venue.cancel("o-1", now_ns=5_000)
    with pytest.raises(OrderRejected, match="unknown"):
        venue.cancel("nope", now_ns=5_000)


def test_replace_moves_the_remaining_qty_to_the_new_order() -> None:
    venue = make_venue(fills=FillModel(participation=Decimal("0.2"), spread_aware=False))
    venue.on_tick(make_tick(100, 9.0))
    venue.submit(make_order("old", qty="100", limit="9.00"), now_ns=1_000)
    venue.on_tick(make_tick(2_000, 9.0, 200))
    venue.drain_reports()

    venue.replace("old", new_client_order_id="new", limit_price=Decimal("9.50"), now_ns=3_000)

    reports = venue.drain_reports()
    assert kinds(reports) == [(ReportKind.REPLACED, "old"), (ReportKind.ACCEPTED, "new")]
    assert reports[0].reason == "replaced by new"
    old, new = venue.order("old"), venue.order("new")
    assert old is not None and new is not None
    assert (old.status, old.filled_qty) == (OrderStatus.REPLACED, Decimal("40"))
    assert (new.status, new.qty, new.filled_qty) == (
        OrderStatus.ACCEPTED,
        Decimal("60"),
        Decimal("0"),
    )
    assert venue.ledger.orders["new"].limit_price == Decimal("9.50")

    venue.on_tick(make_tick(4_000, 9.4, 1_000))  # marketable on arrival: the print or better
    assert fills_of(venue.drain_reports()) == [(Decimal("60"), Decimal("9.40"))]


def test_replace_qty_is_the_new_total_including_what_filled() -> None:
    venue = make_venue(fills=FillModel(participation=Decimal("0.2"), spread_aware=False))
    venue.on_tick(make_tick(100, 9.0))
    venue.submit(make_order("old", qty="100", limit="9.00"), now_ns=1_000)
    venue.on_tick(make_tick(2_000, 9.0, 200))
    with pytest.raises(OrderRejected, match="not above filled"):
        venue.replace("old", new_client_order_id="new", qty=Decimal("40"), now_ns=3_000)
    venue.replace("old", new_client_order_id="new", qty=Decimal("150"), now_ns=3_000)
    new = venue.order("new")
    assert new is not None
    assert new.qty == Decimal("110")


def test_a_filled_order_cannot_be_replaced() -> None:
    venue = make_venue()
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order(), now_ns=1_000)
    venue.on_tick(make_tick(2_000, 10.0))
    with pytest.raises(OrderRejected, match="filled"):
        venue.replace("o-1", new_client_order_id="o-2", qty=Decimal("200"), now_ns=3_000)
    assert venue.order("o-2") is None
    assert venue.ledger.rejections[-1].action == "replace"


def test_a_fill_inside_the_replace_latency_rejects_the_new_order() -> None:
    venue = make_venue(latency_ns=1_000)
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order("old", limit="9.00"), now_ns=1_000)
    venue.replace("old", new_client_order_id="new", limit_price=Decimal("8.50"), now_ns=5_000)
    assert venue.order("new") is not None
    venue.on_tick(make_tick(5_500, 9.0))
    venue.advance(6_000)
    reports = venue.drain_reports()
    assert kinds(reports) == [
        (ReportKind.ACCEPTED, "old"),
        (ReportKind.FILL, "old"),
        (ReportKind.REJECTED, "new"),
    ]
    assert reports[-1].reason.startswith("too late to replace old")


def test_replace_is_refused_for_duplicate_ids_pending_replaces_and_bad_prices() -> None:
    venue = make_venue(latency_ns=1_000)
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order("a", limit="9.00"), now_ns=1_000)
    venue.submit(make_order("b", limit="9.00"), now_ns=1_000)
    with pytest.raises(OrderRejected, match="duplicate"):
        venue.replace("a", new_client_order_id="b", now_ns=2_000)
    with pytest.raises(OrderRejected, match="on the tick"):
        venue.replace("a", new_client_order_id="c", limit_price=Decimal("9.005"), now_ns=2_000)
    venue.replace("a", new_client_order_id="c", limit_price=Decimal("9.01"), now_ns=2_000)
    with pytest.raises(OrderRejected, match="already pending"):
        venue.replace("a", new_client_order_id="d", limit_price=Decimal("9.02"), now_ns=2_100)


def test_duplicate_client_order_id_is_refused_and_the_first_order_is_untouched() -> None:
    venue = make_venue()
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order(limit="9.00"), now_ns=1_000)
    with pytest.raises(OrderRejected, match="duplicate client_order_id"):
        venue.submit(make_order(qty="5", limit="9.50"), now_ns=2_000)
    first = venue.order("o-1")
    assert first is not None
    assert (first.qty, first.status) == (Decimal("100"), OrderStatus.ACCEPTED)
    assert len(venue.ledger.orders) == 1


@pytest.mark.parametrize(
    ("qty", "limit", "match"),
    [("0", None, "whole number"), ("1.5", None, "whole number"), ("10", "10.001", "tick")],
)
def test_malformed_orders_are_refused(qty: str, limit: str | None, match: str) -> None:
    venue = make_venue(check_buying_power=False)
    with pytest.raises(OrderRejected, match=match):
        venue.submit(make_order(qty=qty, limit=limit), now_ns=1_000)


def test_insufficient_buying_power_is_refused_synchronously_and_not_booked() -> None:
    venue = make_venue(cash="10000")
    venue.on_tick(make_tick(100, 10.0))
    with pytest.raises(OrderRejected, match="insufficient buying power"):
        venue.submit(make_order("big", qty="1001"), now_ns=1_000)
    assert venue.order("big") is None
    assert venue.drain_reports() == []
    rejection = venue.ledger.rejections[0]
    assert (rejection.client_order_id, rejection.action) == ("big", "submit")

    venue.submit(make_order("fits", qty="1000", limit="10.00"), now_ns=1_000)
    assert venue.account().buying_power == Decimal("0")
    with pytest.raises(OrderRejected, match="insufficient buying power"):
        venue.submit(make_order("one-more", qty="1"), now_ns=1_000)


def test_margin_multiplier_scales_buying_power() -> None:
    venue = make_venue(cash="10000", multiplier="4")
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order(qty="4000", limit="10.00"), now_ns=1_000)
    assert venue.account().buying_power == Decimal("0")


def test_closing_orders_pass_even_when_buying_power_is_gone() -> None:
    venue = make_venue(cash="10000")
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order("entry", qty="1000"), now_ns=1_000)
    venue.on_tick(make_tick(2_000, 10.0))
    venue.on_tick(make_tick(3_000, 5.0))
    assert venue.account().buying_power == Decimal("0")
    with pytest.raises(OrderRejected, match="insufficient buying power"):
        venue.submit(make_order("add", qty="1"), now_ns=4_000)
    venue.submit(make_order("exit", side=Side.SELL, qty="1000"), now_ns=4_000)


def test_a_market_order_without_any_price_cannot_be_checked() -> None:
    venue = make_venue()
    with pytest.raises(OrderRejected, match="no price"):
        venue.submit(make_order(), now_ns=1_000)
    make_venue(check_buying_power=False).submit(make_order(), now_ns=1_000)
