from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from app.brokers.sim.fill_model import BookTop, FillModel
from app.domain.signal import Side
from tests.unit.brokers.sim_builders import make_quote

TOP = BookTop(bid=Decimal("9.98"), ask=Decimal("10.02"))
LAST = Decimal("10.00")


@pytest.mark.parametrize(
    ("side", "expected"), [(Side.BUY, Decimal("10.01")), (Side.SELL, Decimal("9.99"))]
)
def test_slippage_is_rounded_to_the_tick_against_the_order(side: Side, expected: Decimal) -> None:
    model = FillModel(slippage_bps=Decimal("5"), spread_aware=False)
    assert model.market_price(side, last=LAST, top=None) == expected


def test_slippage_below_a_dollar_uses_the_sub_penny_tick() -> None:
    model = FillModel(slippage_bps=Decimal("10"), spread_aware=False)
    assert model.market_price(Side.BUY, last=Decimal("0.5000"), top=None) == Decimal("0.5005")
    assert model.market_price(Side.SELL, last=Decimal("0.5000"), top=None) == Decimal("0.4995")


def test_spread_aware_buys_pay_the_ask_and_sells_hit_the_bid() -> None:
    model = FillModel(slippage_bps=Decimal("10"))
    assert model.market_price(Side.BUY, last=LAST, top=TOP) == Decimal("10.04")
    assert model.market_price(Side.SELL, last=LAST, top=TOP) == Decimal("9.97")


def test_without_a_quote_the_spread_aware_model_uses_the_print() -> None:
    assert FillModel().market_price(Side.BUY, last=LAST, top=None) == LAST


def test_limit_is_not_filled_unless_the_print_trades_at_or_through_it() -> None:
    model = FillModel(spread_aware=False)
    limit = Decimal("10.00")
    assert (
        model.limit_price(Side.BUY, limit=limit, last=Decimal("10.01"), top=None, resting=True)
        is None
    )
    assert (
        model.limit_price(Side.SELL, limit=limit, last=Decimal("9.99"), top=None, resting=True)
        is None
    )
    assert model.limit_price(Side.BUY, limit=limit, last=limit, top=None, resting=True) == limit
    assert model.limit_price(Side.SELL, limit=limit, last=limit, top=None, resting=True) == limit


def test_resting_limit_fills_at_its_limit_and_marketable_one_at_the_market_or_better() -> None:
    model = FillModel(spread_aware=False)
    limit = Decimal("10.10")
    low = Decimal("9.90")
    assert model.limit_price(Side.BUY, limit=limit, last=low, top=None, resting=True) == limit
    assert model.limit_price(Side.BUY, limit=limit, last=low, top=None, resting=False) == low
    sell_limit = Decimal("9.80")
    assert model.limit_price(Side.SELL, limit=sell_limit, last=low, top=None, resting=False) == low


def test_marketable_limit_is_capped_at_its_limit_when_the_ask_is_above_it() -> None:
    limit = Decimal("10.00")
    price = FillModel().limit_price(Side.BUY, limit=limit, last=LAST, top=TOP, resting=False)
    assert price == limit


@pytest.mark.parametrize(("size", "expected"), [(0, "0"), (3, "1"), (200, "40"), (1_001, "200")])
def test_print_allowance_takes_a_fraction_with_at_least_one_share(size: int, expected: str) -> None:
    assert FillModel(participation=Decimal("0.2")).print_allowance(size) == Decimal(expected)


def test_fee_per_share_with_minimum_and_maximum_to_the_cent() -> None:
    model = FillModel(
        fee_per_share=Decimal("0.005"), fee_min=Decimal("1.00"), fee_max=Decimal("5.00")
    )
    assert model.fee(Decimal("100")) == Decimal("1.00")
    assert model.fee(Decimal("333")) == Decimal("1.66")
    assert model.fee(Decimal("5000")) == Decimal("5.00")
    assert FillModel().fee(Decimal("100")) == Decimal("0.00")


def test_book_top_from_a_quote_refuses_crossed_and_non_positive_quotes() -> None:
    assert BookTop.from_quote(make_quote(1, 9.98, 10.02)) == TOP
    assert BookTop.from_quote(make_quote(1, 10.05, 10.02)) is None
    assert BookTop.from_quote(make_quote(1, 0.0, 10.02)) is None


@pytest.mark.parametrize(
    "build",
    [
        lambda: FillModel(slippage_bps=Decimal("-1")),
        lambda: FillModel(slippage_bps=Decimal("10000")),
        lambda: FillModel(participation=Decimal("0")),
        lambda: FillModel(participation=Decimal("1.5")),
        lambda: FillModel(fee_per_share=Decimal("-0.01")),
        lambda: FillModel(fee_min=Decimal("2"), fee_max=Decimal("1")),
    ],
)
def test_invalid_config_is_refused(build: Callable[[], FillModel]) -> None:
    with pytest.raises(ValueError):
        build()
