from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.money import (
    CENT,
    SUB_PENNY,
    InvalidPrice,
    price_from_float,
    tick_size_for,
    to_avg_price,
    to_decimal,
    to_tick,
    whole_shares,
)


def test_tick_size_follows_sub_penny_rule() -> None:
    assert tick_size_for(Decimal("1.00")) == CENT
    assert tick_size_for(Decimal("0.9999")) == SUB_PENNY


def test_to_tick_rounds_to_nearest_tick() -> None:
    assert to_tick(Decimal("10.005")) == Decimal("10.00")  # half-even
    assert to_tick(Decimal("10.015")) == Decimal("10.02")
    assert to_tick(Decimal("0.12345")) == Decimal("0.1234")
    assert to_tick(Decimal("12.3"), tick=Decimal("0.05")) == Decimal("12.30")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0, 0.0])
def test_price_from_float_refuses_non_finite_and_non_positive(bad: float) -> None:
    with pytest.raises(InvalidPrice):
        price_from_float(bad)


def test_to_decimal_refuses_floats_and_garbage() -> None:
    with pytest.raises(TypeError):
        to_decimal(0.1)  # type: ignore[arg-type]
    with pytest.raises(InvalidPrice):
        to_decimal("abc")
    with pytest.raises(InvalidPrice):
        to_decimal("Infinity")


@given(st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("100000"), places=4))
def test_price_from_float_lands_on_a_tick(px: Decimal) -> None:
    price = price_from_float(float(px))
    step = tick_size_for(price)
    assert price % step == 0
    assert abs(price - px) <= step


@given(st.decimals(min_value=Decimal("0"), max_value=Decimal("1e9"), places=6))
def test_whole_shares_never_rounds_up(qty: Decimal) -> None:
    shares = whole_shares(qty)
    assert shares <= qty < shares + 1


@given(st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1e6"), places=12))
def test_avg_price_quantum_is_stable(value: Decimal) -> None:
    once = to_avg_price(value)
    assert to_avg_price(once) == once
    assert abs(once - value) <= Decimal("0.000000005")


def test_to_tick_can_stay_on_one_side() -> None:
    assert to_tick(Decimal("10.0499"), rounding=ROUND_FLOOR) == Decimal("10.04")
    assert to_tick(Decimal("10.0401"), rounding=ROUND_CEILING) == Decimal("10.05")
