"""Domain orders to IB orders, IB states to domain statuses."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from app.brokers.ibkr.orders import (
    OrderFields,
    StopSpec,
    TrailSpec,
    UnsupportedOrder,
    apply_replace,
    ib_order_for,
    side_of_execution,
    status_of,
)
from app.domain.order import OrderStatus, OrderType, TimeInForce
from app.domain.signal import Side
from tests.builders import order

UNSET = 1.7976931348623157e308


def test_market_order_carries_the_client_order_id_as_order_ref() -> None:
    ib = ib_order_for(order("c-1", qty="250", side=Side.SELL), stop=None, account="DU1")
    assert (ib.orderType, ib.action, ib.totalQuantity, ib.orderRef, ib.account, ib.tif) == (
        "MKT",
        "SELL",
        250.0,
        "c-1",
        "DU1",
        "DAY",
    )


def test_limit_order_keeps_its_decimal_price_and_time_in_force() -> None:
    domain = dataclasses.replace(
        order("c-1"), order_type=OrderType.LIMIT, limit_price=Decimal("9.87"), tif=TimeInForce.GTC
    )
    ib = ib_order_for(domain, stop=None, account="")
    assert (ib.orderType, ib.lmtPrice, ib.tif) == ("LMT", Decimal("9.87"), "GTC")


@pytest.mark.parametrize(
    ("order_type", "stop", "expected"),
    [
        (OrderType.MARKET, StopSpec(stop_price=Decimal("9")), ("STP", Decimal("9"), UNSET, UNSET)),
        (
            OrderType.LIMIT,
            StopSpec(stop_price=Decimal("9")),
            ("STP LMT", Decimal("9"), UNSET, UNSET),
        ),
        (
            OrderType.MARKET,
            TrailSpec(percent=Decimal("2.5")),
            ("TRAIL", UNSET, Decimal("2.5"), UNSET),
        ),
        (
            OrderType.MARKET,
            TrailSpec(amount=Decimal("0.30"), initial_stop=Decimal("9.70")),
            ("TRAIL", Decimal("0.30"), UNSET, Decimal("9.70")),
        ),
    ],
)
def test_native_stops(
    order_type: OrderType, stop: StopSpec | TrailSpec, expected: tuple[object, ...]
) -> None:
    domain = dataclasses.replace(
        order("c-1"),
        order_type=order_type,
        limit_price=Decimal("8.90") if order_type is OrderType.LIMIT else None,
    )
    ib = ib_order_for(domain, stop=stop, account="")
    assert (ib.orderType, ib.auxPrice, ib.trailingPercent, ib.trailStopPrice) == expected


def test_trailing_limit_orders_are_not_mapped() -> None:
    domain = dataclasses.replace(order("c-1"), order_type=OrderType.LIMIT, limit_price=Decimal("9"))
    with pytest.raises(UnsupportedOrder, match="trailing limit"):
        ib_order_for(domain, stop=TrailSpec(percent=Decimal(1)), account="")


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"percent": Decimal(1), "amount": Decimal(1)},
        {"percent": Decimal(0)},
        {"percent": Decimal(100)},
    ],
)
def test_trail_spec_needs_exactly_one_positive_distance(kwargs: dict[str, Decimal]) -> None:
    with pytest.raises(ValueError, match="trailing"):
        TrailSpec(**kwargs)


def test_replace_changes_fields_in_place_and_can_be_undone() -> None:
    domain = dataclasses.replace(order("c-1"), order_type=OrderType.LIMIT, limit_price=Decimal("9"))
    ib = ib_order_for(domain, stop=None, account="")
    before = OrderFields.of(ib)
    apply_replace(ib, new_ref="c-2", qty=Decimal(150), limit_price=Decimal("9.5"), stop=None)
    assert (ib.orderRef, ib.totalQuantity, ib.lmtPrice) == ("c-2", 150.0, Decimal("9.5"))
    before.restore(ib)
    assert (ib.orderRef, ib.totalQuantity, ib.lmtPrice) == ("c-1", 100.0, Decimal("9"))


def test_replace_refuses_a_price_the_order_type_does_not_have() -> None:
    ib = ib_order_for(order("c-1"), stop=None, account="")
    with pytest.raises(UnsupportedOrder, match="no limit price"):
        apply_replace(ib, new_ref="c-2", qty=None, limit_price=Decimal("9"), stop=None)
    with pytest.raises(UnsupportedOrder, match="no stop"):
        apply_replace(
            ib, new_ref="c-2", qty=None, limit_price=None, stop=StopSpec(stop_price=Decimal(9))
        )


@pytest.mark.parametrize(
    ("ib_status", "filled", "rejected", "expected"),
    [
        ("PendingSubmit", "0", False, OrderStatus.SUBMITTED),
        ("PreSubmitted", "0", False, OrderStatus.ACCEPTED),
        ("Submitted", "40", False, OrderStatus.PARTIALLY_FILLED),
        ("PendingCancel", "0", False, OrderStatus.ACCEPTED),
        ("Filled", "100", False, OrderStatus.FILLED),
        ("Cancelled", "40", False, OrderStatus.CANCELED),
        ("Cancelled", "0", True, OrderStatus.REJECTED),
        ("ApiCancelled", "0", False, OrderStatus.CANCELED),
        ("Inactive", "0", False, OrderStatus.REJECTED),
        ("Inactive", "10", False, OrderStatus.CANCELED),
    ],
)
def test_status_of(ib_status: str, filled: str, rejected: bool, expected: OrderStatus) -> None:
    assert status_of(ib_status, filled=Decimal(filled), rejected=rejected) is expected


def test_execution_sides() -> None:
    assert (side_of_execution("BOT"), side_of_execution("SLD")) == (Side.BUY, Side.SELL)
    with pytest.raises(ValueError, match="execution side"):
        side_of_execution("SSHORT")
