"""A domain Order as an alpaca-py order request, refused here when Alpaca would refuse it.

alpaca-py's request models carry quantities and prices as floats, so every Decimal is checked
to survive the trip: the float's shortest repr (what goes on the wire) must be the same
decimal. Prices quantized to the tick and share quantities always do.
"""

from __future__ import annotations

from decimal import Decimal

from alpaca.trading.enums import OrderClass, OrderSide
from alpaca.trading.enums import TimeInForce as AlpacaTif
from alpaca.trading.requests import (
    LimitOrderRequest,
    MarketOrderRequest,
    OrderRequest,
    ReplaceOrderRequest,
    StopLossRequest,
    TakeProfitRequest,
)

from app.domain.money import ZERO
from app.domain.order import Order, OrderType, TimeInForce
from app.domain.signal import Side
from app.ports.broker import OrderRejected

_TIF = {
    TimeInForce.DAY: AlpacaTif.DAY,
    TimeInForce.IOC: AlpacaTif.IOC,
    TimeInForce.GTC: AlpacaTif.GTC,
}


def wire_number(value: Decimal, *, what: str) -> float:
    """The float alpaca-py will serialise; refused when it would not say `value` exactly."""
    number = float(value)
    if Decimal(repr(number)) != value:
        raise OrderRejected(f"{what} {value} cannot be sent exactly")
    return number


def _is_whole(qty: Decimal) -> bool:
    return qty == qty.to_integral_value()


def _check(order: Order, *, extended_hours: bool) -> None:
    if order.is_leg:
        raise OrderRejected(f"{order.client_order_id} is a bracket leg: Alpaca sends it")
    if order.order_type is OrderType.STOP:
        raise OrderRejected("a stop order only goes as a bracket's stop-loss leg")
    if order.qty <= ZERO:
        raise OrderRejected(f"qty must be positive, got {order.qty}")
    is_day = order.tif is TimeInForce.DAY
    if not _is_whole(order.qty) and not (order.order_type is OrderType.MARKET and is_day):
        raise OrderRejected("fractional quantities only go as market DAY orders")
    if order.order_type is OrderType.LIMIT and order.limit_price is None:
        raise OrderRejected("a limit order needs a limit price")
    if extended_hours and not (order.order_type is OrderType.LIMIT and is_day):
        raise OrderRejected("extended hours only take limit DAY orders")
    if order.take_profit is None and order.stop_loss is None:
        return
    if order.take_profit is None or order.stop_loss is None:
        raise OrderRejected("a bracket needs both a take-profit and a stop-loss")
    if order.tif is TimeInForce.IOC or extended_hours or not _is_whole(order.qty):
        raise OrderRejected("a bracket is DAY or GTC, whole shares, regular hours only")
    above, below = (
        (order.take_profit, order.stop_loss)
        if order.side is Side.BUY
        else (order.stop_loss, order.take_profit)
    )
    if above <= below:
        raise OrderRejected("a bracket's take-profit must lie beyond its stop, on the exit side")


def order_request(order: Order, *, extended_hours: bool = False) -> OrderRequest:
    """Raises OrderRejected for what Alpaca would refuse; nothing is sent then. An entry with
    `take_profit` and `stop_loss` goes as one bracket order: a take-profit limit leg and a
    stop-loss stop leg, both of which Alpaca creates and names."""
    _check(order, extended_hours=extended_hours)
    try:
        return _build(order, extended_hours=extended_hours)
    except ValueError as exc:  # alpaca-py's own validation of the request model
        raise OrderRejected(f"alpaca-py refused the order: {exc}") from exc


def _build(order: Order, *, extended_hours: bool) -> OrderRequest:
    fields: dict[str, object] = {
        "symbol": order.symbol,
        "qty": wire_number(order.qty, what="qty"),
        "side": OrderSide.BUY if order.side is Side.BUY else OrderSide.SELL,
        "time_in_force": _TIF[order.tif],
        "client_order_id": order.client_order_id,
    }
    if extended_hours:
        fields["extended_hours"] = True
    if order.take_profit is not None and order.stop_loss is not None:
        fields["order_class"] = OrderClass.BRACKET
        fields["take_profit"] = TakeProfitRequest(
            limit_price=wire_number(order.take_profit, what="take-profit")
        )
        fields["stop_loss"] = StopLossRequest(
            stop_price=wire_number(order.stop_loss, what="stop-loss")
        )
    if order.order_type is OrderType.MARKET or order.limit_price is None:
        return MarketOrderRequest(**fields)
    return LimitOrderRequest(
        limit_price=wire_number(order.limit_price, what="limit price"), **fields
    )


def replace_request(
    *, new_client_order_id: str, qty: Decimal | None, limit_price: Decimal | None
) -> ReplaceOrderRequest:
    """Alpaca replaces whole-share quantities only; `qty` is the new total, as the port says."""
    if qty is not None and (qty <= ZERO or not _is_whole(qty)):
        raise OrderRejected(f"a replace takes a positive whole quantity, got {qty}")
    return ReplaceOrderRequest(
        qty=None if qty is None else int(qty),
        limit_price=None if limit_price is None else wire_number(limit_price, what="limit"),
        client_order_id=new_client_order_id,
    )
