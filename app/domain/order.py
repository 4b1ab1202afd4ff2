"""Orders and their state machine, which never moves backwards."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.money import ZERO, to_avg_price
from app.domain.signal import Side


class OrderType(enum.StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"  # a market order once a print reaches stop_price (a bracket's stop-loss leg)


class TimeInForce(enum.StrEnum):
    DAY = "day"
    IOC = "ioc"
    GTC = "gtc"


class OrderStatus(enum.StrEnum):
    PENDING_NEW = "pending_new"  # intent committed, not yet sent
    SUBMITTED = "submitted"  # sent, venue has not acknowledged
    UNKNOWN = "unknown"  # the send was ambiguous: resolve by lookup, never resubmit blindly
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    REPLACED = "replaced"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def is_terminal(self) -> bool:
        return self.rank == _TERMINAL_RANK


_TERMINAL_RANK = 4
_RANK: dict[OrderStatus, int] = {
    OrderStatus.PENDING_NEW: 0,
    OrderStatus.SUBMITTED: 1,
    OrderStatus.UNKNOWN: 1,
    OrderStatus.ACCEPTED: 2,
    OrderStatus.PARTIALLY_FILLED: 3,
    OrderStatus.FILLED: _TERMINAL_RANK,
    OrderStatus.CANCELED: _TERMINAL_RANK,
    OrderStatus.REJECTED: _TERMINAL_RANK,
    OrderStatus.EXPIRED: _TERMINAL_RANK,
    OrderStatus.REPLACED: _TERMINAL_RANK,
}

_ENDINGS = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REPLACED}
)
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING_NEW: frozenset(
        {
            OrderStatus.SUBMITTED,
            OrderStatus.UNKNOWN,
            OrderStatus.ACCEPTED,
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.REJECTED,
            *_ENDINGS,
        }
    ),
    OrderStatus.SUBMITTED: frozenset(
        {
            OrderStatus.UNKNOWN,
            OrderStatus.ACCEPTED,
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.REJECTED,
            *_ENDINGS,
        }
    ),
    OrderStatus.UNKNOWN: frozenset(
        {OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.REJECTED, *_ENDINGS}
    ),
    OrderStatus.ACCEPTED: frozenset({OrderStatus.PARTIALLY_FILLED, *_ENDINGS}),
    OrderStatus.PARTIALLY_FILLED: frozenset({OrderStatus.PARTIALLY_FILLED, *_ENDINGS}),
    OrderStatus.FILLED: frozenset(),
    OrderStatus.CANCELED: frozenset(),
    OrderStatus.REJECTED: frozenset(),
    OrderStatus.EXPIRED: frozenset(),
    OrderStatus.REPLACED: frozenset(),
}


class IllegalTransition(ValueError):
    """An order was asked to move to a state it cannot reach from where it is."""


class Overfill(ValueError):
    """A fill would take the filled quantity past the order quantity."""


@dataclass(slots=True)
class Order:
    """One order from intent to its end. `closes` links an exit to the entry order it closes.

    An entry with `take_profit` and `stop_loss` is a bracket: the venue holds two exit legs for
    it (app.domain.bracket), rows of their own whose `parent` is the entry. They go live when
    the entry has filled completely, and one filling cancels the other."""

    client_order_id: str
    strategy: str
    symbol: str
    side: Side
    qty: Decimal
    order_type: OrderType
    created_ns: int
    signal_key: str
    limit_price: Decimal | None = None
    ref_price: Decimal | None = None  # the price the decision was sized at; reserves exposure
    tif: TimeInForce = TimeInForce.DAY
    status: OrderStatus = OrderStatus.PENDING_NEW
    filled_qty: Decimal = field(default=ZERO)
    avg_fill_price: Decimal | None = None
    broker_order_id: str | None = None
    closes: str | None = None
    purpose: str = ""  # "entry", or why the exit was sent (stop, target, ...)
    expires_ns: int | None = None
    reason: str = ""
    updated_ns: int = 0
    stop_price: Decimal | None = None
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    parent: str | None = None

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled_qty

    @property
    def is_open(self) -> bool:
        return not self.status.is_terminal

    @property
    def is_entry(self) -> bool:
        return self.closes is None

    @property
    def is_leg(self) -> bool:
        """A bracket's exit leg: the venue sends it, when its entry has filled."""
        return self.parent is not None

    @property
    def has_bracket(self) -> bool:
        return self.take_profit is not None and self.stop_loss is not None

    def can_transition(self, to: OrderStatus) -> bool:
        return to in TRANSITIONS[self.status]

    def transition(self, to: OrderStatus, *, now_ns: int, reason: str = "") -> None:
        if to is self.status and to is not OrderStatus.PARTIALLY_FILLED:
            return
        if not self.can_transition(to):
            raise IllegalTransition(f"{self.client_order_id}: {self.status} -> {to}")
        self.status = to
        self.updated_ns = now_ns
        if reason:
            self.reason = reason

    def apply_fill(self, qty: Decimal, price: Decimal, *, now_ns: int) -> None:
        """Add one execution; moves to PARTIALLY_FILLED or FILLED."""
        if qty <= ZERO:
            raise ValueError(f"fill quantity must be positive, got {qty}")
        new_filled = self.filled_qty + qty
        if new_filled > self.qty:
            raise Overfill(f"{self.client_order_id}: {new_filled} > {self.qty}")
        previous = self.avg_fill_price if self.avg_fill_price is not None else ZERO
        self.avg_fill_price = to_avg_price((previous * self.filled_qty + price * qty) / new_filled)
        self.filled_qty = new_filled
        target = OrderStatus.FILLED if new_filled == self.qty else OrderStatus.PARTIALLY_FILLED
        self.transition(target, now_ns=now_ns)
