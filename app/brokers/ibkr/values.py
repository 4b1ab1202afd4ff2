"""ib_async hands out floats and datetimes; booked money is Decimal and time is integer ns.

These are the checks at the edge: a number from IB that is not finite (or is IB's "unset"
sentinel) is refused here, never carried into the ledger.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal

from app.domain.money import InvalidPrice, to_decimal

UNSET_DOUBLE = 1.7976931348623157e308
"""IB's "no value" for doubles (sys.float_info.max)."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def decimal_from(value: float | Decimal | str) -> Decimal:
    """A Decimal from IB's float (through its shortest repr) or string, checked finite."""
    if isinstance(value, str | Decimal):
        return to_decimal(value)
    if not math.isfinite(value) or value >= UNSET_DOUBLE:
        raise InvalidPrice(f"not a usable number from IB: {value!r}")
    if value.is_integer():
        return Decimal(int(value))
    return to_decimal(repr(value))


def price_from(value: float) -> Decimal:
    """A price from IB: finite and positive."""
    price = decimal_from(value)
    if price <= 0:
        raise InvalidPrice(f"price must be positive, got {value!r}")
    return price


def is_set(value: float | Decimal | None) -> bool:
    """Whether an ib_async numeric field carries a value (not None, NaN or IB's sentinel)."""
    if value is None:
        return False
    number = float(value)
    return math.isfinite(number) and number < UNSET_DOUBLE


def ns_from(moment: datetime) -> int:
    """Nanoseconds since the epoch of an aware datetime, exactly (no float on the way)."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime from IB: {moment!r}")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
