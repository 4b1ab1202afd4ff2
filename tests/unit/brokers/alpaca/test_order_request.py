"""Domain orders as alpaca-py requests; what Alpaca would refuse is refused before sending."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from app.brokers.alpaca.order_request import order_request, replace_request
from app.domain.bracket import legs_of
from app.domain.order import Order, OrderType, TimeInForce
from app.domain.signal import Side
from app.ports.broker import OrderRejected
from tests.builders import order


def limit(coid: str = "o-1", *, price: str = "10.25") -> Order:
    return dataclasses.replace(order(coid), order_type=OrderType.LIMIT, limit_price=Decimal(price))


def test_a_market_order_carries_its_client_order_id_and_day_tif() -> None:
    fields = order_request(order("tr-abc", qty="100")).to_request_fields()
    assert fields == {
        "symbol": "ABC",
        "qty": 100.0,
        "side": "buy",
        "type": "market",
        "time_in_force": "day",
        "client_order_id": "tr-abc",
    }


def test_a_limit_order_sends_its_price_exactly() -> None:
    fields = order_request(limit(price="0.1234")).to_request_fields()
    assert (fields["type"], fields["limit_price"]) == ("limit", 0.1234)


def test_fractional_shares_go_only_as_market_day_orders() -> None:
    fields = order_request(order(qty="0.5")).to_request_fields()
    assert fields["qty"] == 0.5
    with pytest.raises(OrderRejected, match="fractional"):
        order_request(dataclasses.replace(limit(), qty=Decimal("0.5")))
    with pytest.raises(OrderRejected, match="fractional"):
        order_request(dataclasses.replace(order(qty="0.5"), tif=TimeInForce.GTC))


def test_extended_hours_is_flagged_on_limit_day_orders_only() -> None:
    assert order_request(limit(), extended_hours=True).to_request_fields()["extended_hours"]
    with pytest.raises(OrderRejected, match="extended hours"):
        order_request(order(), extended_hours=True)


def bracketed(entry: Order, *, take_profit: str = "11.00", stop_loss: str = "9.50") -> Order:
    return dataclasses.replace(
        entry, take_profit=Decimal(take_profit), stop_loss=Decimal(stop_loss)
    )


def test_an_entry_with_take_profit_and_stop_loss_goes_as_a_bracket() -> None:
    fields = order_request(bracketed(limit())).to_request_fields()
    assert fields["order_class"] == "bracket"
    assert fields["take_profit"] == {"limit_price": 11.0}
    assert fields["stop_loss"] == {"stop_price": 9.5}


def test_a_bracket_with_its_legs_on_the_wrong_side_is_refused() -> None:
    upside_down = bracketed(limit(), take_profit="9.00", stop_loss="11.00")
    with pytest.raises(OrderRejected, match="take-profit"):
        order_request(upside_down)
    sell = dataclasses.replace(upside_down, side=Side.SELL)
    assert order_request(sell).to_request_fields()["side"] == "sell"


def test_half_a_bracket_ioc_brackets_and_extended_hours_brackets_are_refused() -> None:
    with pytest.raises(OrderRejected, match="both"):
        order_request(dataclasses.replace(limit(), take_profit=Decimal("11.00")))
    with pytest.raises(OrderRejected, match="regular hours"):
        order_request(dataclasses.replace(bracketed(limit()), tif=TimeInForce.IOC))
    with pytest.raises(OrderRejected, match="regular hours"):
        order_request(bracketed(limit()), extended_hours=True)


def test_a_leg_or_a_stop_order_is_never_sent_on_its_own() -> None:
    take_profit, stop_loss = legs_of(bracketed(limit("e-1")))
    for leg in (take_profit, stop_loss):
        with pytest.raises(OrderRejected, match="leg"):
            order_request(leg)
    stop = dataclasses.replace(stop_loss, parent=None, closes=None)
    with pytest.raises(OrderRejected, match="stop"):
        order_request(stop)


def test_a_price_a_float_cannot_carry_exactly_is_refused() -> None:
    with pytest.raises(OrderRejected, match="exactly"):
        order_request(limit(price="10.12345678901234567"))


def test_a_limit_order_without_price_and_a_zero_qty_are_refused() -> None:
    with pytest.raises(OrderRejected, match="limit price"):
        order_request(dataclasses.replace(order(), order_type=OrderType.LIMIT))
    with pytest.raises(OrderRejected, match="positive"):
        order_request(order(qty="0"))


def test_a_replace_takes_whole_shares_and_names_the_new_order() -> None:
    fields = replace_request(
        new_client_order_id="o-2", qty=Decimal("30"), limit_price=Decimal("10.10")
    ).to_request_fields()
    assert fields == {"qty": 30, "limit_price": 10.1, "client_order_id": "o-2"}
    with pytest.raises(OrderRejected, match="whole"):
        replace_request(new_client_order_id="o-3", qty=Decimal("1.5"), limit_price=None)
