from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.order import TRANSITIONS, IllegalTransition, OrderStatus, Overfill
from tests.builders import order


def test_every_allowed_edge_moves_forward() -> None:
    for source, targets in TRANSITIONS.items():
        for target in targets:
            assert target.rank >= source.rank, (source, target)


def test_terminal_states_have_no_exit() -> None:
    for status in OrderStatus:
        assert (TRANSITIONS[status] == frozenset()) is status.is_terminal


def test_refuses_backward_transition() -> None:
    o = order()
    o.transition(OrderStatus.ACCEPTED, now_ns=1)
    with pytest.raises(IllegalTransition):
        o.transition(OrderStatus.SUBMITTED, now_ns=2)
    o.transition(OrderStatus.CANCELED, now_ns=3)
    with pytest.raises(IllegalTransition):
        o.transition(OrderStatus.ACCEPTED, now_ns=4)


def test_fills_accumulate_with_exact_average() -> None:
    o = order(qty="300")
    o.apply_fill(Decimal("100"), Decimal("10.00"), now_ns=1)
    statuses = [o.status]
    o.apply_fill(Decimal("200"), Decimal("10.03"), now_ns=2)
    statuses.append(o.status)
    assert statuses == [OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED]
    assert o.avg_fill_price == Decimal("10.02")
    assert o.remaining == 0


def test_fill_before_ack_is_allowed() -> None:
    o = order(qty="10")
    o.transition(OrderStatus.SUBMITTED, now_ns=1)
    o.apply_fill(Decimal("10"), Decimal("5"), now_ns=2)
    assert o.status is OrderStatus.FILLED


def test_overfill_is_refused() -> None:
    o = order(qty="10")
    with pytest.raises(Overfill):
        o.apply_fill(Decimal("11"), Decimal("5"), now_ns=1)


@given(st.lists(st.sampled_from(list(OrderStatus)), max_size=30))
def test_random_walks_never_move_backwards(steps: list[OrderStatus]) -> None:
    o = order()
    for target in steps:
        before = o.status
        try:
            o.transition(target, now_ns=1)
        except IllegalTransition:
            assert o.status is before
            continue
        assert o.status.rank >= before.rank
