"""The simulated venue's bracket legs: held until the entry fills, then one cancels other."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from app.brokers.sim.venue import SimVenue
from app.domain.execution import ReportKind
from app.domain.order import Order, OrderStatus
from app.domain.signal import Side
from app.ports.broker import OrderRejected
from tests.unit.brokers.sim_builders import fills_of, kinds, make_order, make_tick, make_venue

TP, SL = "e-1-tp", "e-1-sl"


def _bracket(*, qty: str = "100", limit: str = "10.05") -> Order:
    entry = make_order("e-1", qty=qty, limit=limit)
    return dataclasses.replace(
        entry, take_profit=Decimal("10.60"), stop_loss=Decimal("9.70"), ref_price=Decimal("10")
    )


def _filled_bracket(venue: SimVenue) -> None:
    venue.submit(_bracket(), now_ns=1)
    venue.on_tick(make_tick(10, 10.00))
    reports = venue.drain_reports()
    assert kinds(reports) == [
        (ReportKind.ACCEPTED, "e-1"),
        (ReportKind.FILL, "e-1"),
        (ReportKind.ACCEPTED, TP),
        (ReportKind.ACCEPTED, SL),
    ]


def test_legs_are_held_silently_until_the_entry_fills_completely() -> None:
    venue = make_venue()
    venue.submit(_bracket(qty="1500"), now_ns=1)
    venue.on_tick(make_tick(10, 10.00, size=1_000))  # fills 1000 of 1500
    assert kinds(venue.drain_reports()) == [(ReportKind.ACCEPTED, "e-1"), (ReportKind.FILL, "e-1")]
    for leg in (TP, SL):
        seen = venue.order(leg)
        assert seen is not None and seen.status is OrderStatus.SUBMITTED
    venue.on_tick(make_tick(20, 11.00, size=1_000))  # beyond the target, but the legs are held
    assert [r.client_order_id for r in venue.drain_reports()] == []
    venue.on_tick(make_tick(30, 10.00, size=1_000))
    assert kinds(venue.drain_reports())[-2:] == [
        (ReportKind.ACCEPTED, TP),
        (ReportKind.ACCEPTED, SL),
    ]


def test_take_profit_fill_cancels_the_stop() -> None:
    venue = make_venue()
    _filled_bracket(venue)
    venue.on_tick(make_tick(20, 10.70))
    reports = venue.drain_reports()
    assert kinds(reports) == [(ReportKind.FILL, TP), (ReportKind.CANCELED, SL)]
    assert fills_of(reports) == [(Decimal("100"), Decimal("10.70"))]
    assert venue.positions() == []


def test_stop_triggers_on_a_print_through_it_and_fills_at_market() -> None:
    venue = make_venue()
    _filled_bracket(venue)
    venue.on_tick(make_tick(20, 9.80))
    assert venue.drain_reports() == []
    venue.on_tick(make_tick(30, 9.60))
    reports = venue.drain_reports()
    assert kinds(reports) == [(ReportKind.FILL, SL), (ReportKind.CANCELED, TP)]
    assert fills_of(reports) == [(Decimal("100"), Decimal("9.60"))]
    stop = venue.order(SL)
    assert stop is not None and stop.side is Side.SELL


def test_the_legs_never_fill_on_the_print_that_filled_the_entry() -> None:
    venue = make_venue()
    venue.submit(_bracket(limit="10.05"), now_ns=1)
    venue.on_tick(make_tick(10, 9.50))  # fills the entry, and is through the stop
    assert kinds(venue.drain_reports())[-1] == (ReportKind.ACCEPTED, SL)
    venue.on_tick(make_tick(20, 9.50))
    assert kinds(venue.drain_reports()) == [(ReportKind.FILL, SL), (ReportKind.CANCELED, TP)]


def test_cancelling_one_leg_cancels_both() -> None:
    venue = make_venue()
    _filled_bracket(venue)
    venue.cancel(SL, now_ns=20)
    assert kinds(venue.drain_reports()) == [(ReportKind.CANCELED, SL), (ReportKind.CANCELED, TP)]
    venue.on_tick(make_tick(30, 11.00))
    assert venue.drain_reports() == []


def test_an_entry_that_ends_unfilled_takes_its_legs_with_it() -> None:
    venue = make_venue()
    venue.submit(_bracket(limit="10.05"), now_ns=1)
    venue.on_tick(make_tick(10, 10.50))  # above the limit: rests
    venue.cancel("e-1", now_ns=20)
    assert kinds(venue.drain_reports()) == [
        (ReportKind.ACCEPTED, "e-1"),
        (ReportKind.CANCELED, "e-1"),
        (ReportKind.CANCELED, TP),
        (ReportKind.CANCELED, SL),
    ]


def test_day_legs_expire_at_the_close_once() -> None:
    venue = make_venue()
    venue.submit(_bracket(), now_ns=1)
    venue.expire_day_orders(50)
    assert kinds(venue.drain_reports()) == [
        (ReportKind.ACCEPTED, "e-1"),
        (ReportKind.EXPIRED, "e-1"),
        (ReportKind.CANCELED, TP),
        (ReportKind.CANCELED, SL),
    ]


def test_brackets_cannot_be_replaced_and_must_straddle_the_entry() -> None:
    venue = make_venue()
    venue.submit(_bracket(), now_ns=1)
    with pytest.raises(OrderRejected, match="bracket"):
        venue.replace("e-1", new_client_order_id="e-2", limit_price=Decimal("10.10"), now_ns=2)
    crossed = dataclasses.replace(_bracket(), client_order_id="e-3", take_profit=Decimal("9.90"))
    with pytest.raises(OrderRejected, match="straddle"):
        venue.submit(crossed, now_ns=3)


def test_legs_count_nothing_against_buying_power() -> None:
    plain, bracketed = make_venue(cash="2000"), make_venue(cash="2000")
    plain.submit(make_order("e-1", limit="10.05"), now_ns=1)
    bracketed.submit(_bracket(limit="10.05"), now_ns=1)
    for venue in (plain, bracketed):
        venue.on_tick(make_tick(10, 10.00))
    assert bracketed.account() == plain.account()
