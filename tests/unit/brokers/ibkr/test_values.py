from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from app.brokers.ibkr.values import UNSET_DOUBLE, decimal_from, is_set, ns_from, price_from
from app.domain.money import InvalidPrice


def test_floats_become_their_shortest_decimal() -> None:
    assert decimal_from(10.015) == Decimal("10.015")
    assert decimal_from(100.0) == Decimal(100)
    assert decimal_from("98999.00") == Decimal("98999.00")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), UNSET_DOUBLE])
def test_unusable_numbers_are_refused(value: float) -> None:
    assert not is_set(value)
    with pytest.raises(InvalidPrice):
        decimal_from(value)


@pytest.mark.parametrize("value", [0.0, -1.0])
def test_prices_must_be_positive(value: float) -> None:
    with pytest.raises(InvalidPrice, match="positive"):
        price_from(value)


def test_times_are_exact_nanoseconds() -> None:
    moment = datetime(2026, 11, 20, 9, 30, 5, 123_456, tzinfo=timezone(timedelta(hours=-5)))
    assert ns_from(moment) == 1_795_185_005_123_456_000
    assert ns_from(datetime(1970, 1, 1, tzinfo=UTC)) == 0
    with pytest.raises(ValueError, match="naive"):
        ns_from(datetime(2026, 11, 20))
