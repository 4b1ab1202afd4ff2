"""Alpaca statuses and objects as the port's BrokerOrder, BrokerPosition, BrokerAccount."""

from __future__ import annotations

from decimal import Decimal

import pytest
from alpaca.trading.models import Order as AlpacaOrder
from alpaca.trading.models import Position, TradeAccount

from app.brokers.alpaca.mapping import (
    alpaca_account,
    broker_order,
    broker_position,
    order_status,
    venue_decimal,
)
from app.domain.order import OrderStatus
from app.domain.signal import Side
from tests.fakes.alpaca.ledger import FakeLedger, Holding
from tests.fakes.alpaca.manual_clock import ManualClock

ZERO = Decimal("0")


@pytest.mark.parametrize(
    ("status", "filled", "expected"),
    [
        ("new", ZERO, OrderStatus.ACCEPTED),
        ("pending_new", ZERO, OrderStatus.ACCEPTED),
        ("held", ZERO, OrderStatus.ACCEPTED),
        ("pending_cancel", Decimal("3"), OrderStatus.PARTIALLY_FILLED),
        ("partially_filled", Decimal("3"), OrderStatus.PARTIALLY_FILLED),
        ("filled", Decimal("10"), OrderStatus.FILLED),
        ("canceled", Decimal("3"), OrderStatus.CANCELED),
        ("replaced", ZERO, OrderStatus.REPLACED),
        ("rejected", ZERO, OrderStatus.REJECTED),
        ("expired", ZERO, OrderStatus.EXPIRED),
    ],
)
def test_statuses(status: str, filled: Decimal, expected: OrderStatus) -> None:
    assert order_status(status, filled) is expected


def test_an_order_keeps_exact_quantities_and_prices() -> None:
    ledger = FakeLedger(ManualClock(0), cash=Decimal("1000"))
    fake = ledger.submit(
        {"symbol": "ABC", "qty": "3", "side": "sell", "type": "market", "time_in_force": "day"}
    )
    ledger.set_price("ABC", Decimal("10.0125"))
    seen = broker_order(AlpacaOrder(**fake.json()))
    assert (seen.side, seen.qty, seen.filled_qty, seen.avg_fill_price) == (
        Side.SELL,
        Decimal("3"),
        Decimal("3"),
        Decimal("10.0125"),
    )
    assert seen.status is OrderStatus.FILLED


def test_positions_are_signed_and_accounts_carry_day_trading_power() -> None:
    ledger = FakeLedger(ManualClock(0), cash=Decimal("1000"))
    short = Position(**ledger.position_json("XYZ", Holding(qty=Decimal("-5"), cost=Decimal("-50"))))
    assert broker_position(short).qty == Decimal("-5")
    account = alpaca_account(TradeAccount(**ledger.account_json()))
    assert (account.cash, account.daytrading_buying_power) == (Decimal("1000"), Decimal("4000"))
    assert account.as_port().buying_power == Decimal("1000")


def test_venue_decimals_from_strings_and_floats() -> None:
    assert venue_decimal("10.10") == Decimal("10.10")
    assert venue_decimal(10.1) == Decimal("10.1")
    assert venue_decimal(None) is None
    assert venue_decimal("") is None
