"""Domain orders to IB orders and IB order states back to domain statuses.

The domain Order knows market and limit orders. IB's native stop and trailing-stop orders are
asked for with an adapter-level `NativeStop` next to the order: with a MARKET order it gives
STP / TRAIL, with a LIMIT order STP LMT (a trailing limit is not supported).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import msgspec
from ib_async import Order as IbOrder
from ib_async import Stock

from app.domain.money import ZERO
from app.domain.order import Order, OrderStatus, OrderType
from app.domain.signal import Side

ACTIONS = {Side.BUY: "BUY", Side.SELL: "SELL"}
_EXECUTION_SIDES = {"BOT": Side.BUY, "SLD": Side.SELL}

WAITING_FOR_VENUE = frozenset({"", "PendingSubmit", "ApiPending"})
"""Statuses ib_async gives an order the venue has not answered about yet."""
WORKING = frozenset({"PreSubmitted", "Submitted"})
ENDED = frozenset({"Filled", "Cancelled", "ApiCancelled", "Inactive"})


class StopSpec(msgspec.Struct, frozen=True):
    """A stop (MARKET order) or stop-limit (LIMIT order) triggered at `stop_price`."""

    stop_price: Decimal

    def __post_init__(self) -> None:
        if self.stop_price <= ZERO:
            raise ValueError(f"stop price must be positive, got {self.stop_price}")


class TrailSpec(msgspec.Struct, frozen=True):
    """A trailing stop that follows the price by `percent` (e.g. 2 for 2%) or by `amount`
    dollars; `initial_stop` pins where it starts (IB computes it otherwise)."""

    percent: Decimal | None = None
    amount: Decimal | None = None
    initial_stop: Decimal | None = None

    def __post_init__(self) -> None:
        if (self.percent is None) == (self.amount is None):
            raise ValueError("a trailing stop needs exactly one of percent and amount")
        for value in (self.percent, self.amount, self.initial_stop):
            if value is not None and value <= ZERO:
                raise ValueError(f"trailing stop values must be positive, got {value}")
        if self.percent is not None and self.percent >= 100:
            raise ValueError(f"trailing percent must be below 100, got {self.percent}")


NativeStop = StopSpec | TrailSpec


class UnsupportedOrder(ValueError):
    """An order IB could be asked for but this adapter does not map."""


@dataclass(frozen=True, slots=True)
class OrderFields:
    """What a replace may change on a working IB order, to put back if IB refuses."""

    order_ref: str
    total_quantity: float
    lmt_price: float | Decimal | None
    aux_price: float | Decimal | None
    trailing_percent: float | Decimal
    trail_stop_price: float | Decimal

    @classmethod
    def of(cls, order: IbOrder) -> OrderFields:
        return cls(
            order_ref=order.orderRef,
            total_quantity=order.totalQuantity,
            lmt_price=order.lmtPrice,
            aux_price=order.auxPrice,
            trailing_percent=order.trailingPercent,
            trail_stop_price=order.trailStopPrice,
        )

    def restore(self, order: IbOrder) -> None:
        order.orderRef = self.order_ref
        order.totalQuantity = self.total_quantity
        order.lmtPrice = self.lmt_price
        order.auxPrice = self.aux_price
        order.trailingPercent = self.trailing_percent
        order.trailStopPrice = self.trail_stop_price


def stock(symbol: str, *, exchange: str, currency: str) -> Stock:
    return Stock(symbol, exchange, currency)


def ib_order_for(order: Order, *, stop: NativeStop | None, account: str) -> IbOrder:
    """The IB order for a domain order; orderRef carries the client order id, durably.
    Bracket legs are Alpaca's and the simulated venue's; here stops go through `stop`."""
    if order.has_bracket or order.order_type is OrderType.STOP:
        raise UnsupportedOrder(
            f"{order.client_order_id}: bracket legs are not sent to Interactive Brokers"
        )
    ib = IbOrder(
        action=ACTIONS[order.side],
        totalQuantity=float(order.qty),
        tif=order.tif.value.upper(),
        orderRef=order.client_order_id,
        account=account,
    )
    if order.order_type is OrderType.LIMIT:
        if order.limit_price is None:
            raise UnsupportedOrder(f"{order.client_order_id}: limit order without a price")
        ib.lmtPrice = order.limit_price
    match stop:
        case None:
            ib.orderType = "LMT" if order.order_type is OrderType.LIMIT else "MKT"
        case StopSpec(stop_price=stop_price):
            ib.orderType = "STP LMT" if order.order_type is OrderType.LIMIT else "STP"
            ib.auxPrice = stop_price
        case TrailSpec():
            if order.order_type is OrderType.LIMIT:
                raise UnsupportedOrder(f"{order.client_order_id}: trailing limit orders")
            ib.orderType = "TRAIL"
            _set_trail(ib, stop)
    return ib


def _set_trail(ib: IbOrder, trail: TrailSpec) -> None:
    if trail.percent is not None:
        ib.trailingPercent = trail.percent
    else:
        ib.auxPrice = trail.amount
    if trail.initial_stop is not None:
        ib.trailStopPrice = trail.initial_stop


def apply_replace(
    ib: IbOrder,
    *,
    new_ref: str,
    qty: Decimal | None,
    limit_price: Decimal | None,
    stop: NativeStop | None,
) -> None:
    """Change a working IB order in place for an atomic modify (qty is the new total)."""
    if limit_price is not None:
        if ib.orderType not in ("LMT", "STP LMT"):
            raise UnsupportedOrder(f"{ib.orderRef}: a {ib.orderType} order has no limit price")
        ib.lmtPrice = limit_price
    match stop:
        case None:
            pass
        case StopSpec(stop_price=stop_price):
            if ib.orderType not in ("STP", "STP LMT"):
                raise UnsupportedOrder(f"{ib.orderRef}: a {ib.orderType} order has no stop")
            ib.auxPrice = stop_price
        case TrailSpec():
            if ib.orderType != "TRAIL":
                raise UnsupportedOrder(f"{ib.orderRef}: a {ib.orderType} order does not trail")
            _set_trail(ib, stop)
    if qty is not None:
        ib.totalQuantity = float(qty)
    ib.orderRef = new_ref


def side_of_execution(side: str) -> Side:
    """IB reports executions as BOT / SLD."""
    try:
        return _EXECUTION_SIDES[side]
    except KeyError:
        raise ValueError(f"unknown execution side from IB: {side!r}") from None


def side_of_action(action: str) -> Side:
    for side, name in ACTIONS.items():
        if name == action:
            return side
    raise ValueError(f"unknown order action from IB: {action!r}")


def status_of(ib_status: str, *, filled: Decimal, rejected: bool) -> OrderStatus:
    """The domain status of an IB order state. A cancel that carried a rejection error, or an
    order that went Inactive before any fill, was rejected; the rest of the ends are cancels."""
    if ib_status == "Filled":
        return OrderStatus.FILLED
    if ib_status in ("Cancelled", "ApiCancelled", "Inactive"):
        if rejected or (ib_status == "Inactive" and filled == ZERO):
            return OrderStatus.REJECTED
        return OrderStatus.CANCELED
    if ib_status in WAITING_FOR_VENUE:
        return OrderStatus.SUBMITTED
    return OrderStatus.PARTIALLY_FILLED if filled > ZERO else OrderStatus.ACCEPTED
