"""Which simulated orders are bracket legs, of which entry, and which leg is the other's."""

from __future__ import annotations

from decimal import Decimal

from app.domain.bracket import legs_of
from app.domain.money import ZERO, to_tick
from app.domain.order import Order, TimeInForce
from app.domain.signal import Side
from app.ports.broker import OrderRejected


def check_bracket(order: Order) -> None:
    """A bracket entry's legs are positive prices on the tick, on either side of its limit."""
    take_profit, stop_loss = order.take_profit, order.stop_loss
    if take_profit is None or stop_loss is None:
        return
    if order.tif is TimeInForce.IOC:
        raise OrderRejected("a bracket is DAY or GTC")
    for name, price in (("take-profit", take_profit), ("stop-loss", stop_loss)):
        if not price.is_finite() or price <= ZERO or to_tick(price) != price:
            raise OrderRejected(f"{name} must be positive and on the tick, got {price}")
    base = order.limit_price if order.limit_price is not None else order.ref_price
    if base is None:
        return
    if order.side is Side.BUY:
        straddles = stop_loss < base < take_profit
    else:
        straddles = take_profit < base < stop_loss
    if not straddles:
        raise OrderRejected(f"bracket legs {take_profit}/{stop_loss} do not straddle {base}")


class BracketBook:
    """Entry id -> its two legs' ids, and each leg's sibling."""

    def __init__(self) -> None:
        self._legs: dict[str, tuple[str, str]] = {}
        self._sibling: dict[str, str] = {}

    def add(self, entry: Order) -> tuple[Order, Order]:
        """The entry's legs, remembered; the caller registers them."""
        take_profit, stop_loss = legs_of(entry)
        ids = (take_profit.client_order_id, stop_loss.client_order_id)
        self._legs[entry.client_order_id] = ids
        self._sibling[ids[0]], self._sibling[ids[1]] = ids[1], ids[0]
        return take_profit, stop_loss

    def legs(self, entry_id: str) -> tuple[str, ...]:
        return self._legs.get(entry_id, ())

    def sibling(self, leg_id: str) -> str | None:
        return self._sibling.get(leg_id)

    def forget(self, entry_id: str) -> tuple[str, ...]:
        """Drop an entry's bracket; its legs' ids."""
        ids = self._legs.pop(entry_id, ())
        for leg_id in ids:
            self._sibling.pop(leg_id, None)
        return ids


def stop_triggered(side: Side, *, stop: Decimal, last: Decimal) -> bool:
    """A sell stop triggers on a print at or below its price, a buy stop at or above."""
    return last <= stop if side is Side.SELL else last >= stop
