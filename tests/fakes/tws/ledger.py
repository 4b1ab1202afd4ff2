"""What the fake TWS remembers: orders, executions with their ids, positions, cash and marks.

Pure and synchronous; the server turns its changes into messages. Matching is deliberately
simple: a price update fills what it makes marketable, at that price, up to `max_fill_qty` per
update (so partial fills can be staged), and a test can also book an execution explicitly.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal(0)
HUNDRED = Decimal(100)
OPEN_STATUSES = frozenset({"PreSubmitted", "Submitted"})


@dataclass
class FakeOrder:
    """One order as the venue holds it; `ref` is the client's orderRef (its client order id)."""

    order_id: int
    client_id: int
    perm_id: int
    ref: str
    symbol: str
    action: str
    qty: Decimal
    order_type: str
    lmt: Decimal | None
    aux: Decimal | None
    trailing_percent: Decimal | None
    trail_stop: Decimal | None
    tif: str
    account: str
    status: str = "Submitted"
    filled: Decimal = ZERO
    avg_price: Decimal = ZERO
    triggered: bool = False
    completed_status: str = ""
    last_fill_price: Decimal = ZERO

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def sign(self) -> int:
        return 1 if self.action == "BUY" else -1


@dataclass(frozen=True)
class FakeExecution:
    exec_id: str
    perm_id: int
    order_id: int
    client_id: int
    ref: str
    symbol: str
    side: str
    shares: Decimal
    price: Decimal
    ts_ns: int
    cum_qty: Decimal
    avg_price: Decimal
    commission: Decimal


@dataclass
class Holding:
    qty: Decimal = ZERO
    avg_cost: Decimal = ZERO


@dataclass(frozen=True)
class OrderTicket:
    """A placeOrder as parsed off the wire."""

    order_id: int
    symbol: str
    action: str
    qty: Decimal
    order_type: str
    lmt: Decimal | None
    aux: Decimal | None
    trailing_percent: Decimal | None
    trail_stop: Decimal | None
    tif: str
    account: str
    ref: str


@dataclass
class TwsLedger:
    account: str
    cash: Decimal
    now_ns: Callable[[], int]
    commission_per_share: Decimal = Decimal("0.005")
    min_commission: Decimal = Decimal("1.00")
    buying_power_multiplier: Decimal = Decimal(4)
    max_fill_qty: Decimal | None = None
    orders: dict[int, FakeOrder] = field(default_factory=dict)
    executions: list[FakeExecution] = field(default_factory=list)
    holdings: dict[str, Holding] = field(default_factory=dict)
    marks: dict[str, Decimal] = field(default_factory=dict)
    con_ids: dict[str, int] = field(default_factory=dict)
    _perm_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(9001))
    _exec_seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # orders ---------------------------------------------------------------------------------
    def next_order_id(self, client_id: int) -> int:
        used = [o.order_id for o in self.orders.values() if o.client_id == client_id]
        return max(used, default=0) + 1

    def find(self, client_id: int, order_id: int) -> FakeOrder | None:
        for order in self.orders.values():
            if order.client_id == client_id and order.order_id == order_id:
                return order
        return None

    def by_ref(self, ref: str) -> list[FakeOrder]:
        return [o for o in self.orders.values() if o.ref == ref]

    def place(self, client_id: int, ticket: OrderTicket) -> FakeOrder:
        order = FakeOrder(
            order_id=ticket.order_id,
            client_id=client_id,
            perm_id=next(self._perm_ids),
            ref=ticket.ref,
            symbol=ticket.symbol,
            action=ticket.action,
            qty=ticket.qty,
            order_type=ticket.order_type,
            lmt=ticket.lmt,
            aux=ticket.aux,
            trailing_percent=ticket.trailing_percent,
            trail_stop=ticket.trail_stop,
            tif=ticket.tif,
            account=ticket.account or self.account,
        )
        self.orders[order.perm_id] = order
        mark = self.marks.get(order.symbol)
        if order.order_type == "TRAIL" and order.trail_stop is None and mark is not None:
            order.trail_stop = self._trail_level(order, mark)
        return order

    def modify(self, order: FakeOrder, ticket: OrderTicket) -> None:
        """IB's atomic modify: same order id, new fields (the reference may change too)."""
        order.ref = ticket.ref
        order.qty = ticket.qty
        order.lmt = ticket.lmt
        order.aux = ticket.aux
        order.trailing_percent = ticket.trailing_percent
        if ticket.trail_stop is not None:
            order.trail_stop = ticket.trail_stop

    def end(self, order: FakeOrder, status: str, completed: str) -> None:
        order.status = status
        order.completed_status = completed

    # matching -------------------------------------------------------------------------------
    def fill_price(self, order: FakeOrder) -> Decimal | None:
        """The price the order would trade at against the current mark, or None."""
        mark = self.marks.get(order.symbol)
        if mark is None or not order.is_open:
            return None
        buy = order.action == "BUY"
        kind = order.order_type
        if kind in ("STP", "STP LMT", "TRAIL") and not order.triggered:
            self._trail(order, mark)
            stop = order.trail_stop if kind == "TRAIL" else order.aux
            if stop is None or (mark < stop if buy else mark > stop):
                return None
            order.triggered = True
        if kind in ("LMT", "STP LMT"):
            assert order.lmt is not None
            return mark if (mark <= order.lmt if buy else mark >= order.lmt) else None
        return mark

    def _trail(self, order: FakeOrder, mark: Decimal) -> None:
        if order.order_type != "TRAIL":
            return
        level = self._trail_level(order, mark)
        current = order.trail_stop
        if current is None:
            order.trail_stop = level
        elif order.action == "SELL":
            order.trail_stop = max(current, level)
        else:
            order.trail_stop = min(current, level)

    @staticmethod
    def _trail_level(order: FakeOrder, mark: Decimal) -> Decimal:
        direction = -1 if order.action == "SELL" else 1
        if order.trailing_percent is not None:
            return mark * (1 + direction * order.trailing_percent / HUNDRED)
        assert order.aux is not None, "a trailing amount travels in auxPrice"
        return mark + direction * order.aux

    def fill_qty(self, order: FakeOrder) -> Decimal:
        if self.max_fill_qty is None:
            return order.remaining
        return min(order.remaining, self.max_fill_qty)

    def execute(self, order: FakeOrder, qty: Decimal, price: Decimal) -> FakeExecution:
        """Book one execution: the order, the position, cash and commission move together."""
        if not ZERO < qty <= order.remaining:
            raise ValueError(f"cannot fill {qty} of {order.ref} (remaining {order.remaining})")
        order.avg_price = (order.avg_price * order.filled + price * qty) / (order.filled + qty)
        order.filled += qty
        order.last_fill_price = price
        if order.filled == order.qty:
            self.end(order, "Filled", "Filled")
        commission = max(self.min_commission, self.commission_per_share * qty)
        self._book_position(order.symbol, order.sign * qty, price)
        self.cash -= order.sign * qty * price + commission
        seq = next(self._exec_seq)
        execution = FakeExecution(
            exec_id=f"0000e{order.perm_id:05d}.{seq:06d}.01.01",
            perm_id=order.perm_id,
            order_id=order.order_id,
            client_id=order.client_id,
            ref=order.ref,
            symbol=order.symbol,
            side="BOT" if order.action == "BUY" else "SLD",
            shares=qty,
            price=price,
            ts_ns=self.now_ns(),
            cum_qty=order.filled,
            avg_price=order.avg_price,
            commission=commission,
        )
        self.executions.append(execution)
        return execution

    def _book_position(self, symbol: str, signed_qty: Decimal, price: Decimal) -> None:
        holding = self.holdings.setdefault(symbol, Holding())
        new_qty = holding.qty + signed_qty
        if holding.qty == ZERO or (holding.qty > 0) == (signed_qty > 0):
            holding.avg_cost = (
                holding.avg_cost * abs(holding.qty) + price * abs(signed_qty)
            ) / abs(new_qty)
        elif new_qty == ZERO:
            holding.avg_cost = ZERO
        elif (new_qty > 0) != (holding.qty > 0):
            holding.avg_cost = price
        holding.qty = new_qty

    # account --------------------------------------------------------------------------------
    def con_id(self, symbol: str) -> int:
        return self.con_ids.setdefault(symbol, 100_001 + len(self.con_ids))

    def market_value(self) -> Decimal:
        return sum((h.qty * self.marks.get(s, h.avg_cost) for s, h in self.holdings.items()), ZERO)

    def account_values(self) -> dict[str, Decimal]:
        net = self.cash + self.market_value()
        return {
            "NetLiquidation": net,
            "TotalCashValue": self.cash,
            "BuyingPower": net * self.buying_power_multiplier,
        }
