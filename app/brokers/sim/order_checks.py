"""What the simulated venue's order entry refuses before an order reaches the book."""

from __future__ import annotations

from decimal import Decimal

from app.domain.money import ZERO, to_tick, whole_shares
from app.domain.order import OrderType
from app.ports.broker import OrderRejected


def check_qty(qty: Decimal) -> None:
    """Quantities are positive whole shares (lot size 1)."""
    if not qty.is_finite() or qty <= ZERO or qty != whole_shares(qty):
        raise OrderRejected(f"qty must be a positive whole number of shares, got {qty}")


def check_price_fields(order_type: OrderType, limit_price: Decimal | None) -> None:
    """A limit order has a positive limit on the tick; a market order has none; a stop order
    only comes as a bracket's leg, never on its own."""
    if order_type is OrderType.STOP:
        raise OrderRejected("a stop order is only sent as a bracket's leg")
    if order_type is OrderType.MARKET:
        if limit_price is not None:
            raise OrderRejected("a market order takes no limit price")
        return
    if limit_price is None:
        raise OrderRejected("a limit order needs a limit price")
    if not limit_price.is_finite() or limit_price <= ZERO or to_tick(limit_price) != limit_price:
        raise OrderRejected(f"limit price must be positive and on the tick, got {limit_price}")
