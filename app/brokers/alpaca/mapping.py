"""Alpaca's REST objects (alpaca-py models, already validated) as the platform's port types."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import msgspec
from alpaca.trading.models import Order as AlpacaOrder
from alpaca.trading.models import Position as AlpacaPosition
from alpaca.trading.models import TradeAccount

from app.domain.money import ZERO, to_decimal
from app.domain.order import OrderStatus
from app.domain.signal import Side
from app.ports.broker import BrokerAccount, BrokerOrder, BrokerPosition

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_TERMINAL = {
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "replaced": OrderStatus.REPLACED,
    "rejected": OrderStatus.REJECTED,
}


class AlpacaAccount(msgspec.Struct, frozen=True):
    """The account as Alpaca reports it; `daytrading_buying_power` only on margin accounts."""

    cash: Decimal
    equity: Decimal
    buying_power: Decimal
    daytrading_buying_power: Decimal | None = None
    pattern_day_trader: bool = False

    def as_port(self) -> BrokerAccount:
        return BrokerAccount(cash=self.cash, equity=self.equity, buying_power=self.buying_power)


def venue_decimal(value: str | float | None) -> Decimal | None:
    """A quantity or price as the venue wrote it; a float (alpaca-py may parse one) is read
    from its shortest repr, which is the decimal the venue sent."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        return to_decimal(repr(value))
    return to_decimal(value)


def datetime_ns(moment: dt.datetime) -> int:
    """alpaca-py parses timestamps to datetimes: exact to the microsecond, which is all it kept."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return (moment - _EPOCH) // dt.timedelta(microseconds=1) * 1_000


def ns_datetime(ts_ns: int) -> dt.datetime:
    """A clock time as the datetime alpaca-py sends, truncated to the microsecond."""
    return _EPOCH + dt.timedelta(microseconds=ts_ns // 1_000)


def order_status(status: str, filled_qty: Decimal) -> OrderStatus:
    """Every live Alpaca status (new, accepted, pending_*, held, done_for_day, ...) is ACCEPTED
    or, once something filled, PARTIALLY_FILLED; the terminal ones map one to one."""
    terminal = _TERMINAL.get(status)
    if terminal is not None:
        return terminal
    return OrderStatus.PARTIALLY_FILLED if filled_qty > ZERO else OrderStatus.ACCEPTED


def broker_order(order: AlpacaOrder) -> BrokerOrder:
    """Raises ValueError for an order this platform cannot have sent (no symbol, side or qty)."""
    qty = venue_decimal(order.qty)
    if order.symbol is None or order.side is None or qty is None:
        raise ValueError(f"alpaca order {order.id} has no symbol, side or qty")
    filled = venue_decimal(order.filled_qty) or ZERO
    return BrokerOrder(
        client_order_id=order.client_order_id,
        broker_order_id=str(order.id),
        symbol=order.symbol,
        side=Side(order.side.value),
        qty=qty,
        filled_qty=filled,
        status=order_status(order.status.value, filled),
        avg_fill_price=venue_decimal(order.filled_avg_price),
        created_ns=datetime_ns(order.created_at),
    )


def broker_position(position: AlpacaPosition) -> BrokerPosition:
    """Alpaca writes a short position's qty negative already; long positive, as the port."""
    return BrokerPosition(
        symbol=position.symbol,
        qty=to_decimal(position.qty),
        avg_price=to_decimal(position.avg_entry_price),
    )


def alpaca_account(account: TradeAccount) -> AlpacaAccount:
    return AlpacaAccount(
        cash=venue_decimal(account.cash) or ZERO,
        equity=venue_decimal(account.equity) or ZERO,
        buying_power=venue_decimal(account.buying_power) or ZERO,
        daytrading_buying_power=venue_decimal(account.daytrading_buying_power),
        pattern_day_trader=bool(account.pattern_day_trader),
    )
