"""Column types for booked money: Decimal in, the same Decimal out, on every backend."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class Money(TypeDecorator[Decimal]):
    """Decimal stored without loss: unconstrained NUMERIC on PostgreSQL, TEXT on SQLite.

    SQLite's NUMERIC affinity would turn values into floats, so there the Decimal's own string is
    stored and parsed back. On PostgreSQL, NUMERIC without precision or scale keeps every digit
    and the scale (`2.50` stays `2.50`). Values are written in the one form both backends can
    hold (see `canonical`). Floats and non-finite values are refused: they are not money.
    """

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> object:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"money columns take Decimal, got {type(value).__name__}")
        if not value.is_finite():
            raise ValueError(f"money must be finite, got {value}")
        stored = canonical(value)
        return str(stored) if dialect.name == "sqlite" else stored

    def process_result_value(self, value: object, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            return canonical(value)
        if isinstance(value, str):
            return Decimal(value)
        raise TypeError(f"money column returned {type(value).__name__}, expected Decimal or str")


def canonical(value: Decimal) -> Decimal:
    """The same value with no positive exponent and no negative zero, built without rounding.

    PostgreSQL's NUMERIC has neither (and asyncpg reads `10000` back as `1E+4`), so writing and
    reading this form makes `Decimal("10000")`, `Decimal("2.50")` and every other value with a
    non-positive exponent read back with the very same digits and scale on both backends.
    """
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"money must be finite, got {value}")
    if exponent > 0:
        digits, exponent = (*digits, *(0,) * exponent), 0
    if not any(digits):
        sign = 0
    return Decimal((sign, digits, exponent))
