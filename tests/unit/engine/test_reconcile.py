"""Reconciliation decided without I/O: every S17 difference and what is done about it."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from app.domain.execution import ExecutionReport, ReportKind
from app.domain.money import AVG_PRICE_QUANTUM
from app.domain.order import Order, OrderStatus
from app.domain.position import Lot
from app.domain.signal import Side
from app.engine.reconcile import (
    Action,
    DiffKind,
    FillCeilings,
    LocalBook,
    VenueBook,
    catch_up_price,
    compare_orders,
    compare_positions,
    derived_execution_id,
    fill_ceilings,
    next_fill,
    plan,
    status_target,
)
from app.ports.broker import BrokerOrder, BrokerPosition
from app.ports.risk_state import GLOBAL
from tests.builders import OPEN_NS
from tests.builders import order as make_order


def _order(
    coid: str = "o-1",
    *,
    status: OrderStatus = OrderStatus.ACCEPTED,
    filled: str = "0",
    avg: str | None = None,
    qty: str = "100",
    strategy: str = "s",
    symbol: str = "ABC",
) -> Order:
    return replace(
        make_order(coid, qty=qty, strategy=strategy, symbol=symbol),
        status=status,
        filled_qty=Decimal(filled),
        avg_fill_price=None if avg is None else Decimal(avg),
    )


def _seen(
    coid: str = "o-1",
    *,
    status: OrderStatus = OrderStatus.ACCEPTED,
    filled: str = "0",
    avg: str | None = None,
    qty: str = "100",
    symbol: str = "ABC",
) -> BrokerOrder:
    return BrokerOrder(
        client_order_id=coid,
        broker_order_id=f"b-{coid}",
        symbol=symbol,
        side=Side.BUY,
        qty=Decimal(qty),
        filled_qty=Decimal(filled),
        status=status,
        avg_fill_price=None if avg is None else Decimal(avg),
    )


def _lot(qty: str, *, strategy: str = "s", symbol: str = "ABC", side: Side = Side.BUY) -> Lot:
    return Lot(
        entry_order_id=f"e-{strategy}-{symbol}",
        strategy=strategy,
        symbol=symbol,
        side=side,
        opened_ns=OPEN_NS,
        qty_filled=Decimal(qty),
        qty_open=Decimal(qty),
        avg_price=Decimal("10"),
    )


def _execution(coid: str, exec_id: str, qty: str, price: str = "10.00") -> ExecutionReport:
    return ExecutionReport(
        kind=ReportKind.FILL,
        client_order_id=coid,
        symbol="ABC",
        side=Side.BUY,
        ts_ns=OPEN_NS,
        execution_id=exec_id,
        last_qty=Decimal(qty),
        last_price=Decimal(price),
    )


def _local(
    *orders: Order, lots: tuple[Lot, ...] = (), halted: frozenset[str] = frozenset()
) -> LocalBook:
    return LocalBook(orders={o.client_order_id: o for o in orders}, lots=lots, halted=halted)


def _venue(
    *orders: BrokerOrder,
    positions: tuple[BrokerPosition, ...] = (),
    executions: tuple[ExecutionReport, ...] = (),
) -> VenueBook:
    return VenueBook(
        orders={o.client_order_id: o for o in orders}, positions=positions, executions=executions
    )


def _position(qty: str, symbol: str = "ABC") -> BrokerPosition:
    return BrokerPosition(symbol=symbol, qty=Decimal(qty), avg_price=Decimal("10"))


# orders ------------------------------------------------------------------------------------
def test_books_that_agree_have_no_differences() -> None:
    local = _local(_order(status=OrderStatus.PARTIALLY_FILLED, filled="40", avg="10"))
    venue = _venue(_seen(status=OrderStatus.PARTIALLY_FILLED, filled="40", avg="10"))
    assert plan(local, venue) == []


def test_an_order_the_venue_accepted_moves_to_accepted() -> None:
    [diff] = compare_orders(_local(_order(status=OrderStatus.SUBMITTED)), _venue(_seen()))
    assert (diff.kind, diff.action, diff.target) == (
        DiffKind.STATUS,
        Action.SET_STATUS,
        OrderStatus.ACCEPTED,
    )


def test_an_order_filled_while_down_is_one_missing_fill_and_no_status_move() -> None:
    venue = _venue(_seen(status=OrderStatus.FILLED, filled="100", avg="10.02"))
    [diff] = compare_orders(_local(_order()), venue)
    assert (diff.kind, diff.action, diff.qty) == (
        DiffKind.MISSING_FILL,
        Action.BOOK_FILL,
        Decimal("100"),
    )
    assert (diff.local, diff.venue) == ("accepted 0/100", "filled 100/100 @ 10.02")


def test_a_partial_fill_then_cancel_books_the_fill_then_cancels() -> None:
    venue = _venue(_seen(status=OrderStatus.CANCELED, filled="40", avg="10"))
    fill, status = compare_orders(_local(_order()), venue)
    assert (fill.kind, fill.qty) == (DiffKind.MISSING_FILL, Decimal("40"))
    assert (status.kind, status.target) == (DiffKind.STATUS, OrderStatus.CANCELED)


def test_a_venue_order_the_ledger_never_sent_halts_whoever_holds_the_symbol() -> None:
    unknown = _seen("x-1", status=OrderStatus.FILLED, filled="100", avg="10")
    [nobody] = compare_orders(_local(), _venue(unknown))
    assert (nobody.kind, nobody.action, nobody.scopes) == (
        DiffKind.UNKNOWN_ORDER,
        Action.HALT,
        (GLOBAL,),
    )
    held = _local(lots=(_lot("10", strategy="b"), _lot("5", strategy="a")))
    [holders] = compare_orders(held, _venue(unknown))
    assert holders.scopes == ("a", "b")
    assert holders.strategy == "a,b"


def test_a_working_order_the_venue_does_not_know_is_cancelled_an_unsent_one_left_alone() -> None:
    working = _order("w", status=OrderStatus.PARTIALLY_FILLED, filled="10", avg="10")
    unsent = _order("u", status=OrderStatus.PENDING_NEW)
    [diff] = compare_orders(_local(working, unsent), _venue())
    assert (diff.kind, diff.client_order_id, diff.target) == (
        DiffKind.NOT_AT_VENUE,
        "w",
        OrderStatus.CANCELED,
    )


def test_orders_that_cannot_be_brought_into_line_halt_their_strategy() -> None:
    cases = [
        (_order(status=OrderStatus.EXPIRED), _seen()),  # ended here, live there
        (_order(filled="50", avg="10", status=OrderStatus.PARTIALLY_FILLED), _seen(filled="40")),
        (_order(status=OrderStatus.CANCELED), _seen(status=OrderStatus.FILLED, filled="100")),
        (_order(), _seen(filled="150", qty="150", status=OrderStatus.FILLED)),
        (_order(), _seen(symbol="XYZ")),
        (_order(), _seen(status=OrderStatus.REJECTED, filled="40", avg="10")),
    ]
    for order, seen in cases:
        [diff] = compare_orders(_local(order), _venue(seen))
        assert (diff.kind, diff.action, diff.scopes) == (
            DiffKind.ORDER_MISMATCH,
            Action.HALT,
            ("s",),
        ), (order, seen)


def test_orders_that_both_ended_without_a_fill_difference_are_left_alone() -> None:
    local = _local(_order(status=OrderStatus.REJECTED))
    assert compare_orders(local, _venue(_seen(status=OrderStatus.CANCELED))) == []


def test_a_venue_behind_the_ledger_is_not_a_difference() -> None:
    assert status_target(OrderStatus.ACCEPTED, _seen(status=OrderStatus.SUBMITTED)) is None
    assert status_target(OrderStatus.PENDING_NEW, _seen(status=OrderStatus.SUBMITTED)) is (
        OrderStatus.SUBMITTED
    )


# positions ---------------------------------------------------------------------------------
def test_positions_are_compared_per_symbol_summed_over_strategies() -> None:
    lots = (_lot("60", strategy="a"), _lot("40", strategy="b"))
    assert compare_positions(_local(lots=lots), _venue(positions=(_position("100"),))) == []


def test_an_unknown_position_halts_everything_a_mismatch_its_holders() -> None:
    lots = (_lot("100", strategy="s"),)
    venue = _venue(positions=(_position("150"), _position("-20", symbol="XYZ")))
    mismatch, unknown = compare_positions(_local(lots=lots), venue)
    assert (mismatch.kind, mismatch.symbol, mismatch.scopes) == (
        DiffKind.POSITION_MISMATCH,
        "ABC",
        ("s",),
    )
    assert (mismatch.local, mismatch.venue) == ("100", "150")
    assert (unknown.kind, unknown.symbol, unknown.scopes) == (
        DiffKind.UNKNOWN_POSITION,
        "XYZ",
        (GLOBAL,),
    )
    assert "XYZ" in unknown.reason and "venue -20" in unknown.reason


def test_a_position_the_venue_no_longer_holds_is_a_mismatch() -> None:
    [diff] = compare_positions(_local(lots=(_lot("100"),)), _venue())
    assert (diff.kind, diff.local, diff.venue) == (DiffKind.POSITION_MISMATCH, "100", "0")


def test_a_halt_in_force_is_not_engaged_again() -> None:
    local = _local(lots=(_lot("100"),), halted=frozenset({"s"}))
    [diff] = compare_positions(local, _venue(positions=(_position("150"),)))
    assert diff.action is Action.ALREADY_HALTED


def test_a_dry_run_counts_the_missing_fills_in_the_positions() -> None:
    venue = _venue(
        _seen(status=OrderStatus.FILLED, filled="100", avg="10"), positions=(_position("100"),)
    )
    [diff] = plan(_local(_order()), venue)
    assert diff.kind is DiffKind.MISSING_FILL


# fills -------------------------------------------------------------------------------------
def test_listed_executions_are_tried_first_each_once_and_only_if_they_fit() -> None:
    order = _order(filled="40", avg="10", status=OrderStatus.PARTIALLY_FILLED)  # e2 is booked
    seen = _seen(status=OrderStatus.PARTIALLY_FILLED, filled="70", avg="10")
    executions = [_execution("o-1", "e2", "40"), _execution("o-1", "e1", "30")]
    first = next_fill(order, seen, executions, tried=set(), now_ns=OPEN_NS)
    assert first is not None and first.execution_id == "e1"  # e2 again would make 80 of 70
    booked = replace(order, filled_qty=Decimal("70"))
    assert next_fill(booked, seen, executions, tried={"e1"}, now_ns=OPEN_NS) is None


def test_what_the_listed_executions_do_not_cover_is_one_derived_fill() -> None:
    order = _order()
    seen = _seen(status=OrderStatus.PARTIALLY_FILLED, filled="70", avg="10")
    executions = [_execution("o-1", "e1", "30")]
    first = next_fill(order, seen, executions, tried=set(), now_ns=OPEN_NS)
    assert first is not None and first.execution_id == "e1"
    booked = replace(order, filled_qty=Decimal("30"), avg_fill_price=Decimal("10"))
    rest = next_fill(booked, seen, executions, tried={"e1"}, now_ns=OPEN_NS)
    assert rest is not None
    assert (rest.execution_id, rest.last_qty) == ("recon:o-1:70", Decimal("40"))


def test_without_executions_one_catch_up_fill_makes_the_averages_agree() -> None:
    order = _order(filled="40", avg="10.00", status=OrderStatus.PARTIALLY_FILLED)
    seen = _seen(status=OrderStatus.FILLED, filled="100", avg="10.06")
    report = next_fill(order, seen, [], tried=set(), now_ns=OPEN_NS + 5)
    assert report is not None
    assert (report.execution_id, report.last_qty, report.last_price, report.ts_ns) == (
        "recon:o-1:100",
        Decimal("60"),
        Decimal("10.1"),
        OPEN_NS + 5,
    )
    assert next_fill(order, seen, [], tried={"recon:o-1:100"}, now_ns=OPEN_NS) is None
    assert (
        next_fill(replace(order, filled_qty=Decimal(100)), seen, [], tried=set(), now_ns=0) is None
    )


def test_the_derived_id_does_not_depend_on_how_the_venue_writes_the_quantity() -> None:
    assert derived_execution_id("o-1", Decimal("100.00")) == derived_execution_id(
        "o-1", Decimal("1E+2")
    )


def test_no_catch_up_without_a_venue_average_or_with_an_impossible_one() -> None:
    order = _order(filled="50", avg="20", status=OrderStatus.PARTIALLY_FILLED)
    assert catch_up_price(order, _seen(filled="100")) is None
    assert catch_up_price(order, _seen(filled="100", avg="5")) is None


@given(
    local_qty=st.integers(0, 500),
    missing=st.integers(1, 500),
    local_cents=st.integers(100, 10_000),
    venue_cents=st.integers(100, 10_000),
)
def test_the_catch_up_price_gives_the_venue_average(
    local_qty: int, missing: int, local_cents: int, venue_cents: int
) -> None:
    local_avg = Decimal(local_cents) / 100 if local_qty else None
    total = local_qty + missing
    order = _order(
        qty=str(total),
        filled=str(local_qty),
        avg=None if local_avg is None else str(local_avg),
        status=OrderStatus.PARTIALLY_FILLED if local_qty else OrderStatus.ACCEPTED,
    )
    venue_avg = Decimal(venue_cents) / 100
    seen = _seen(qty=str(total), filled=str(total), avg=str(venue_avg))
    price = catch_up_price(order, seen)
    if price is None:  # only when the venue's average cannot contain the local fills
        assert local_avg is not None and venue_avg * total <= local_avg * local_qty
        return
    order.apply_fill(Decimal(missing), price, now_ns=OPEN_NS)
    assert order.avg_fill_price is not None
    assert abs(order.avg_fill_price - venue_avg) <= AVG_PRICE_QUANTUM


def test_ceilings_refuse_fills_past_the_order_or_the_venue_quantity() -> None:
    ceilings = FillCeilings()
    order = _order(filled="50", avg="10", status=OrderStatus.PARTIALLY_FILLED)
    assert ceilings.refusal(order, _execution("o-1", "e", "50")) is None
    assert ceilings.refusal(order, _execution("o-1", "e", "60")) is not None  # 110 of 100
    ceilings.reset({"o-1": Decimal("50")})
    refused = ceilings.refusal(order, _execution("o-1", "e", "10"))
    assert refused is not None and "50" in refused
    assert ceilings.refusal(None, _execution("o-1", "e", "10")) is None


def test_ceilings_cover_open_orders_whose_fills_the_venue_did_not_list() -> None:
    listed = _order("l", filled="30", avg="10", status=OrderStatus.PARTIALLY_FILLED)
    unlisted = _order("u", filled="30", avg="10", status=OrderStatus.PARTIALLY_FILLED)
    nothing = _order("n")
    venue = _venue(
        _seen("l", filled="30", avg="10"),
        _seen("u", filled="30", avg="10"),
        _seen("n"),
        executions=(_execution("l", "e1", "30"),),
    )
    assert fill_ceilings([listed, unlisted, nothing], venue) == {"u": Decimal("30")}
