"""The fake Alpaca venue's books: orders, executions with ids, positions and cash.

Orders fill against a last price the test sets: a market order as soon as there is a price, a
limit order when the price reaches it; `max_fill_qty` splits fills into partial fills. Every
order event is kept in `events` (the venue's history) and handed to `listeners` as the
trade_updates `data` object Alpaca sends. `fill_before_ack` emits an order's first fills before
its `new` event; `omit_execution_id` leaves the id out of fill events (older API versions);
`duplicate_status` is the status a reused client_order_id gets (422, or 409 as some answer).
`hold_fills` keeps every order resting, marketable or not, until it is cleared and a new price
comes (`set_price`): orders a test wants still working at some moment.
`refused_duplicates` lists every client_order_id sent again after the venue had it.
Requests the real venue refuses raise VenueRefusal with Alpaca's status, code and message.

Brackets, as Alpaca runs them: the entry brings a take-profit limit leg and a stop-loss stop
leg with client_order_ids the venue generates, both `held` until the entry has filled
completely. Then the take-profit goes `new` and works as a limit; the stop-loss stays held
until a price reaches its stop (a sell stop at or below, a buy stop at or above), then goes
`new` and fills at that price. Legs act from the first price after the entry filled. A fill
on either leg cancels the other, cancelling either cancels both, and an entry that ends
without filling completely cancels its legs. An order's JSON nests its legs only when asked
(`nested`), as Alpaca's does; its trade_updates never do.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.ports.clock import Clock

ZERO = Decimal("0")
OPEN_STATUSES = frozenset({"new", "accepted", "partially_filled", "held"})

Json = dict[str, Any]


class VenueRefusal(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def iso(ts_ns: int) -> str:
    """RFC 3339 with nanoseconds, as Alpaca writes timestamps."""
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    whole = dt.datetime.fromtimestamp(seconds, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{nanos:09d}Z"


def text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@dataclass
class FakeOrder:
    id: str
    client_order_id: str
    symbol: str
    side: str
    qty: Decimal
    order_type: str
    time_in_force: str
    created_ns: int
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    extended_hours: bool = False
    order_class: str = "simple"
    status: str = "new"
    filled_qty: Decimal = ZERO
    filled_value: Decimal = ZERO
    updated_ns: int = 0
    replaces: str | None = None
    replaced_by: str | None = None
    is_leg: bool = False
    legs: list[FakeOrder] = field(default_factory=list)
    parent: FakeOrder | None = None
    armed: bool = False  # a leg whose entry has filled completely

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled_qty

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def json(self, *, nested: bool = False) -> Json:
        stamp = iso(self.updated_ns or self.created_ns)
        avg = self.filled_value / self.filled_qty if self.filled_qty else None
        return {
            "id": self.id,
            "client_order_id": self.client_order_id,
            "created_at": iso(self.created_ns),
            "updated_at": stamp,
            "submitted_at": iso(self.created_ns),
            "filled_at": stamp if self.status == "filled" else None,
            "expired_at": None,
            "canceled_at": stamp if self.status == "canceled" else None,
            "failed_at": None,
            "replaced_at": stamp if self.status == "replaced" else None,
            "replaced_by": self.replaced_by,
            "replaces": self.replaces,
            "asset_id": str(uuid.uuid5(uuid.NAMESPACE_URL, self.symbol)),
            "symbol": self.symbol,
            "asset_class": "us_equity",
            "notional": None,
            "qty": str(self.qty),
            "filled_qty": str(self.filled_qty),
            "filled_avg_price": None if avg is None else str(avg.quantize(Decimal("0.0001"))),
            "order_class": self.order_class,
            "order_type": self.order_type,
            "type": self.order_type,
            "side": self.side,
            "time_in_force": self.time_in_force,
            "limit_price": text(self.limit_price),
            "stop_price": text(self.stop_price),
            "status": self.status,
            "extended_hours": self.extended_hours,
            "legs": [leg.json() for leg in self.legs] if nested and self.legs else None,
            "trail_percent": None,
            "trail_price": None,
            "hwm": None,
        }


@dataclass(frozen=True)
class Execution:
    execution_id: str
    order_id: str
    client_order_id: str
    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    ts_ns: int


@dataclass
class Holding:
    qty: Decimal = ZERO
    cost: Decimal = ZERO

    @property
    def avg_price(self) -> Decimal:
        return (self.cost / self.qty).quantize(Decimal("0.0001")) if self.qty else ZERO


def _reaches(side: str, price: Decimal, limit: Decimal | None) -> bool:
    if limit is None:
        return True
    return price <= limit if side == "buy" else price >= limit


class FakeLedger:
    def __init__(self, clock: Clock, *, cash: Decimal) -> None:
        self.clock = clock
        self.cash = cash
        self.orders: dict[str, FakeOrder] = {}
        self.by_client_id: dict[str, str] = {}
        self.executions: list[Execution] = []
        self.holdings: dict[str, Holding] = {}
        self.prices: dict[str, Decimal] = {}
        self.events: list[Json] = []
        self.listeners: list[Callable[[Json], None]] = []
        self.fill_before_ack = False
        self.omit_execution_id = False
        self.max_fill_qty: Decimal | None = None
        self.duplicate_status = 422
        self.hold_fills = False
        self.refused_duplicates: list[str] = []
        self._ids = itertools.count(1)

    def new_id(self) -> str:
        return str(uuid.UUID(int=(0xA1 << 120) | next(self._ids)))

    # requests ----------------------------------------------------------------------------

    def submit(self, body: Json) -> FakeOrder:
        client_order_id = str(body.get("client_order_id") or self.new_id())
        if client_order_id in self.by_client_id:
            self.refused_duplicates.append(client_order_id)
            raise VenueRefusal(self.duplicate_status, 40010001, "client_order_id must be unique")
        order = self._parse(body, client_order_id)
        self._check_buying_power(order)
        self._register(order)
        for leg in order.legs:
            self._register(leg)
        self._work(order)
        return order

    def cancel(self, order_id: str) -> None:
        order = self.orders.get(order_id)
        if order is None:
            raise VenueRefusal(404, 40410000, "order not found")
        if not order.is_open:
            raise VenueRefusal(422, 42210000, f'order is already in "{order.status}" state')
        self._end(order, "canceled")
        self._end_sibling(order)

    def replace(self, order_id: str, body: Json) -> FakeOrder:
        """`qty` is the new total, filled shares included; the new order carries the rest."""
        old = self.orders.get(order_id)
        if old is None:
            raise VenueRefusal(404, 40410000, "order not found")
        if not old.is_open:
            raise VenueRefusal(422, 42210000, f'order is already in "{old.status}" state')
        client_order_id = str(body.get("client_order_id") or self.new_id())
        if client_order_id in self.by_client_id:
            self.refused_duplicates.append(client_order_id)
            raise VenueRefusal(422, 40010001, "client_order_id must be unique")
        total = Decimal(str(body["qty"])) if body.get("qty") is not None else old.qty
        if total <= old.filled_qty:
            raise VenueRefusal(422, 42210000, "qty must be above the filled quantity")
        limit = body.get("limit_price")
        now = self.clock.now_ns()
        new = FakeOrder(
            id=self.new_id(),
            client_order_id=client_order_id,
            symbol=old.symbol,
            side=old.side,
            qty=total - old.filled_qty,
            order_type=old.order_type,
            time_in_force=str(body.get("time_in_force") or old.time_in_force),
            created_ns=now,
            limit_price=Decimal(str(limit)) if limit is not None else old.limit_price,
            extended_hours=old.extended_hours,
            replaces=old.id,
        )
        old.replaced_by = new.id
        self._end(old, "replaced")
        self._register(new)
        self._work(new)
        return new

    def set_price(self, symbol: str, price: Decimal) -> None:
        """A new last price: resting orders that it makes marketable fill, a stop-loss leg it
        reaches triggers. Legs armed by an entry filling now act from the next price."""
        self.prices[symbol] = price
        working = [
            order
            for order in self.orders.values()
            if order.symbol == symbol and order.is_open and (order.armed or not order.is_leg)
        ]
        for order in working:
            if order.order_type == "stop":
                self._trigger(order, price)
            else:
                self._fill_marketable(order)

    # views -------------------------------------------------------------------------------

    def order_by_client_id(self, client_order_id: str) -> FakeOrder | None:
        order_id = self.by_client_id.get(client_order_id)
        return None if order_id is None else self.orders[order_id]

    def equity(self) -> Decimal:
        marks = (
            h.qty * self.prices.get(symbol, h.avg_price) for symbol, h in self.holdings.items()
        )
        return self.cash + sum(marks, ZERO)

    def position_json(self, symbol: str, holding: Holding) -> Json:
        price = self.prices.get(symbol, holding.avg_price)
        return {
            "asset_id": str(uuid.uuid5(uuid.NAMESPACE_URL, symbol)),
            "symbol": symbol,
            "exchange": "NASDAQ",
            "asset_class": "us_equity",
            "avg_entry_price": str(holding.avg_price),
            "qty": str(holding.qty),
            "qty_available": str(holding.qty),
            "side": "long" if holding.qty > 0 else "short",
            "market_value": str(holding.qty * price),
            "cost_basis": str(holding.cost),
            "current_price": str(price),
        }

    def positions_json(self) -> list[Json]:
        return [
            self.position_json(symbol, holding)
            for symbol, holding in sorted(self.holdings.items())
            if holding.qty
        ]

    def account_json(self) -> Json:
        return {
            "id": str(uuid.UUID(int=1)),
            "account_number": "PA0000FAKE",
            "status": "ACTIVE",
            "currency": "USD",
            "cash": str(self.cash),
            "equity": str(self.equity()),
            "portfolio_value": str(self.equity()),
            "buying_power": str(self.cash),
            "regt_buying_power": str(self.cash),
            "daytrading_buying_power": str(self.cash * 4),
            "pattern_day_trader": False,
            "trading_blocked": False,
            "multiplier": "1",
        }

    # matching ----------------------------------------------------------------------------

    def _parse(self, body: Json, client_order_id: str) -> FakeOrder:
        try:
            qty = Decimal(str(body["qty"]))
            order = FakeOrder(
                id=self.new_id(),
                client_order_id=client_order_id,
                symbol=str(body["symbol"]),
                side=str(body["side"]),
                qty=qty,
                order_type=str(body["type"]),
                time_in_force=str(body["time_in_force"]),
                created_ns=self.clock.now_ns(),
                limit_price=(
                    Decimal(str(body["limit_price"])) if body.get("limit_price") else None
                ),
                extended_hours=bool(body.get("extended_hours", False)),
                order_class=str(body.get("order_class") or "simple"),
            )
        except (KeyError, ArithmeticError) as exc:
            raise VenueRefusal(422, 40010000, f"invalid order: {exc}") from exc
        if qty <= 0:
            raise VenueRefusal(422, 40010000, "qty must be > 0")
        if order.order_type == "limit" and order.limit_price is None:
            raise VenueRefusal(422, 40010000, "limit_price is required")
        if order.order_class == "bracket":
            order.legs = self._legs(order, body)
        return order

    def _legs(self, parent: FakeOrder, body: Json) -> list[FakeOrder]:
        exit_side = "sell" if parent.side == "buy" else "buy"
        take_profit = Decimal(str(body["take_profit"]["limit_price"]))
        stop = Decimal(str(body["stop_loss"]["stop_price"]))
        legs = []
        for kind, limit, stop_price in (("limit", take_profit, None), ("stop", None, stop)):
            legs.append(
                FakeOrder(
                    id=self.new_id(),
                    client_order_id=self.new_id(),
                    symbol=parent.symbol,
                    side=exit_side,
                    qty=parent.qty,
                    order_type=kind,
                    time_in_force=parent.time_in_force,
                    created_ns=parent.created_ns,
                    limit_price=limit,
                    stop_price=stop_price,
                    order_class="bracket",
                    status="held",
                    is_leg=True,
                    parent=parent,
                )
            )
        return legs

    def _check_buying_power(self, order: FakeOrder) -> None:
        if order.side != "buy":
            return
        price = order.limit_price or self.prices.get(order.symbol)
        if price is not None and order.qty * price > self.cash:
            raise VenueRefusal(403, 40310000, "insufficient buying power")

    def _register(self, order: FakeOrder) -> None:
        self.orders[order.id] = order
        self.by_client_id[order.client_order_id] = order.id

    def _work(self, order: FakeOrder) -> None:
        if self.fill_before_ack:
            self._fill_marketable(order)
            self._emit("new", order)
        else:
            self._emit("new", order)
            self._fill_marketable(order)

    def _trigger(self, leg: FakeOrder, price: Decimal) -> None:
        """A held stop-loss leg whose stop the price reached goes live and fills at it."""
        if self.hold_fills or leg.stop_price is None:
            return
        reached = price <= leg.stop_price if leg.side == "sell" else price >= leg.stop_price
        if leg.status == "held" and reached:
            self._go_live(leg)
        if leg.status != "held":
            self._fill_marketable(leg)

    def _go_live(self, order: FakeOrder) -> None:
        order.status = "new"
        order.updated_ns = self.clock.now_ns()
        self._emit("new", order)

    def _fill_marketable(self, order: FakeOrder) -> None:
        price = self.prices.get(order.symbol)
        if price is None or not order.is_open or self.hold_fills:
            return
        if order.order_type == "limit" and not _reaches(order.side, price, order.limit_price):
            return
        while order.remaining > 0:
            qty = order.remaining
            if self.max_fill_qty is not None:
                qty = min(qty, self.max_fill_qty)
            self._fill(order, qty, price)

    def _fill(self, order: FakeOrder, qty: Decimal, price: Decimal) -> None:
        now = self.clock.now_ns()
        execution = Execution(
            execution_id=self.new_id(),
            order_id=order.id,
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            qty=qty,
            price=price,
            ts_ns=now,
        )
        self.executions.append(execution)
        order.filled_qty += qty
        order.filled_value += qty * price
        order.updated_ns = now
        order.status = "filled" if order.remaining == 0 else "partially_filled"
        signed = qty if order.side == "buy" else -qty
        holding = self.holdings.setdefault(order.symbol, Holding())
        if holding.qty == 0 or (holding.qty > 0) == (signed > 0):
            holding.cost += signed * price
        else:
            holding.cost = holding.cost * (holding.qty + signed) / holding.qty
        holding.qty += signed
        self.cash -= signed * price
        extra: Json = {
            "price": str(price),
            "qty": str(qty),
            "position_qty": str(holding.qty),
        }
        if not self.omit_execution_id:
            extra["execution_id"] = execution.execution_id
        self._emit("fill" if order.status == "filled" else "partial_fill", order, extra)
        if order.is_leg:
            self._end_sibling(order)
        elif order.status == "filled":
            self._arm_legs(order)

    def _arm_legs(self, entry: FakeOrder) -> None:
        """The entry has filled completely: the take-profit works, the stop-loss stays held."""
        for leg in entry.legs:
            if leg.is_open:
                leg.armed = True
                if leg.order_type == "limit":
                    self._go_live(leg)

    def _end(self, order: FakeOrder, status: str) -> None:
        """Canceled or replaced: legs of an entry that did not fill completely go with it."""
        order.status = status
        order.updated_ns = self.clock.now_ns()
        self._emit(status, order)
        for leg in order.legs:
            if leg.is_open:
                self._end(leg, "canceled")

    def _end_sibling(self, order: FakeOrder) -> None:
        """One cancels other: when `order` is a leg, its other leg ends canceled if open."""
        siblings = order.parent.legs if order.parent is not None else []
        for sibling in siblings:
            if sibling is not order and sibling.is_open:
                self._end(sibling, "canceled")

    def _emit(self, event: str, order: FakeOrder, extra: Json | None = None) -> None:
        data: Json = {
            "event": event,
            "order": order.json(),
            "timestamp": iso(self.clock.now_ns()),
            **(extra or {}),
        }
        self.events.append(data)
        for listener in list(self.listeners):
            listener(data)
