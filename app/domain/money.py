"""Booked money is Decimal, made from strings and quantized at this one boundary."""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation

CENT = Decimal("0.01")
SUB_PENNY = Decimal("0.0001")
ONE_DOLLAR = Decimal("1")
ZERO = Decimal("0")
AVG_PRICE_QUANTUM = Decimal("0.00000001")


class InvalidPrice(ValueError):
    """A price from outside the core that is not a finite positive number."""


def to_decimal(value: str | int | Decimal) -> Decimal:
    """Make a Decimal from a string, an int or a Decimal; floats are refused on purpose."""
    if isinstance(value, float):
        raise TypeError("floats are not money: use price_from_float at the edge")
    try:
        result = Decimal(value)
    except InvalidOperation as exc:
        raise InvalidPrice(f"not a number: {value!r}") from exc
    if not result.is_finite():
        raise InvalidPrice(f"not finite: {value!r}")
    return result


def tick_size_for(price: Decimal) -> Decimal:
    """US equities (Reg NMS rule 612): a cent at $1 and above, a hundredth of a cent below."""
    return CENT if price >= ONE_DOLLAR else SUB_PENNY


def to_tick(
    price: Decimal, *, tick: Decimal | None = None, rounding: str = ROUND_HALF_EVEN
) -> Decimal:
    """Quantize a price to the instrument's tick: to the nearest by default (banker's rounding),
    or ROUND_FLOOR / ROUND_CEILING to stay on one side of a bound."""
    step = tick if tick is not None else tick_size_for(price)
    ticks = (price / step).quantize(ONE_DOLLAR, rounding=rounding)
    return (ticks * step).quantize(step)


def price_from_float(px: float, *, tick: Decimal | None = None) -> Decimal:
    """The one door from float market data into booked money: checked, then quantized."""
    if not math.isfinite(px) or px <= 0.0:
        raise InvalidPrice(f"price must be finite and positive, got {px!r}")
    return to_tick(Decimal(repr(px)), tick=tick)


def to_cents(amount: Decimal) -> Decimal:
    """Quantize a cash amount (fees, cash, P&L) to the cent."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def whole_shares(qty: Decimal) -> Decimal:
    """Round a share quantity down to whole shares (lot size 1)."""
    return qty.quantize(ONE_DOLLAR, rounding=ROUND_DOWN)


def to_avg_price(value: Decimal) -> Decimal:
    """Average prices are kept to 8 decimal places, so every backend stores them exactly."""
    return value.quantize(AVG_PRICE_QUANTUM, rounding=ROUND_HALF_EVEN)
