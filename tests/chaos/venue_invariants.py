"""The invariants of RELIABILITY.md, checked on what the fake venue recorded and on the trader's
own ledger (the SQLite database in its data dir) after a chaos scenario against FakeAlpaca:

- no client_order_id twice at the venue, and none sent again once the venue had it;
- every venue order is one ledger order with the venue's status and filled quantity, its shares
  booked once (under the venue's execution ids, or a catch-up id reconciliation derives);
- every recorded signal ended as an order or as a rejection that says why;
- the ledger's positions equal the venue's, share for share (Decimal);
- no order's status ever moved backwards: the ledger keeps only the latest status, so
  `StatusWatch` reads it over and over while the scenario runs.

Each check raises AssertionError naming what broke; `assert_invariants` runs them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sqlite3
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import TracebackType
from typing import Self

from app.brokers.alpaca.trade_updates import derived_execution_id as wire_id
from app.domain.money import ZERO, to_avg_price
from app.domain.order import TRANSITIONS, OrderStatus
from app.engine.reconcile import derived_execution_id as catch_up_id
from tests.fakes.alpaca.ledger import FakeOrder
from tests.fakes.alpaca.trader_process import ledger_rows
from tests.fakes.alpaca.venue import FakeAlpaca

PENDING = frozenset({OrderStatus.PENDING_NEW, OrderStatus.SUBMITTED, OrderStatus.UNKNOWN})

# What the ledger calls the state Alpaca names: `new` is an order the venue acknowledged.
_LEDGER_STATUS_OF = {
    "new": OrderStatus.ACCEPTED,
    "accepted": OrderStatus.ACCEPTED,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "replaced": OrderStatus.REPLACED,
    "rejected": OrderStatus.REJECTED,
}


def _reachable() -> dict[OrderStatus, frozenset[OrderStatus]]:
    """Where each status can get to in one or more steps: a poll may skip a step."""
    reach: dict[OrderStatus, frozenset[OrderStatus]] = {}
    for start in OrderStatus:
        seen: set[OrderStatus] = set()
        todo = list(TRANSITIONS[start])
        while todo:
            status = todo.pop()
            if status not in seen:
                seen.add(status)
                todo.extend(TRANSITIONS[status])
        reach[start] = frozenset(seen)
    return reach


_REACHABLE = _reachable()


def venue_orders(venue: FakeAlpaca) -> list[FakeOrder]:
    """The orders the trader sent (bracket legs are the venue's own)."""
    return [order for order in venue.ledger.orders.values() if not order.is_leg]


def ledger_orders(data_dir: Path) -> dict[str, tuple[OrderStatus, Decimal]]:
    """Each ledger order's status and filled quantity, by client_order_id."""
    rows = ledger_rows(data_dir, "select client_order_id, status, filled_qty from orders")
    return {coid: (OrderStatus(status), Decimal(str(filled))) for coid, status, filled in rows}


def linked(venue: FakeAlpaca, data_dir: Path, orders: Iterable[FakeOrder]) -> bool:
    """Whether each of these venue orders has its ledger row, in the venue's state."""
    local = ledger_orders(data_dir)
    return all(
        local.get(order.client_order_id) == (_LEDGER_STATUS_OF[order.status], order.filled_qty)
        for order in orders
    )


def assert_no_duplicates(venue: FakeAlpaca) -> None:
    ids = [order.client_order_id for order in venue_orders(venue)]
    assert len(ids) == len(set(ids)), "a client_order_id is twice at the venue"
    assert venue.ledger.refused_duplicates == [], "orders sent again after the venue had them"


def assert_orders_linked(venue: FakeAlpaca, data_dir: Path) -> None:
    local = ledger_orders(data_dir)
    for order in venue_orders(venue):
        expected = (_LEDGER_STATUS_OF[order.status], order.filled_qty)
        assert local.get(order.client_order_id) == expected, (order.client_order_id, expected)


def assert_fills_booked_once(venue: FakeAlpaca, data_dir: Path) -> None:
    """Per order, the booked shares are the venue's filled shares, under the venue's execution
    ids or an id reconciliation derives from the order (Alpaca cannot list executions)."""
    booked: dict[str, Decimal] = {}
    rows = ledger_rows(data_dir, "select execution_id, client_order_id, qty from fills")
    executions = {e.execution_id for e in venue.ledger.executions}
    for execution_id, coid, qty in rows:
        order = venue.ledger.order_by_client_id(coid)
        assert order is not None, f"a fill for {coid}, which the venue does not have"
        assert execution_id in executions or _derived(execution_id, order), execution_id
        booked[coid] = booked.get(coid, ZERO) + Decimal(str(qty))
    for order in venue_orders(venue):
        assert booked.get(order.client_order_id, ZERO) == order.filled_qty, order.client_order_id


def _derived(execution_id: str, order: FakeOrder) -> bool:
    """An id the trader derives for the order's shares up to a cumulative quantity the venue
    filled: reconciliation's catch-up, or a fill event that came without its id."""
    try:
        cumulative = Decimal(execution_id.rpartition(":")[2])
    except InvalidOperation:
        return False
    forms = {
        catch_up_id(order.client_order_id, cumulative),
        wire_id(order.id, cumulative),
    }
    return cumulative <= order.filled_qty and execution_id in forms


def assert_signals_decided(data_dir: Path) -> None:
    """Every recorded signal is an order in the ledger or a refusal with its reason."""
    orders = {coid for (coid,) in ledger_rows(data_dir, "select client_order_id from orders")}
    signals = ledger_rows(
        data_dir,
        "select dedup_key, decision_approved, decision_reason, client_order_id from signals",
    )
    assert signals, "no signal was recorded"
    for key, approved, reason, coid in signals:
        assert reason, f"signal {key} has no decision reason"
        if approved:
            assert coid in orders, f"approved signal {key} has no order"
    keys = [k for (k,) in ledger_rows(data_dir, "select signal_key from orders")]
    assert len(keys) == len(set(keys)), "a signal has two orders"


def ledger_positions(data_dir: Path) -> dict[str, tuple[Decimal, Decimal]]:
    """Per symbol, over every strategy: quantity and what it cost (quantity x average cost)."""
    held: dict[str, tuple[Decimal, Decimal]] = {}
    for symbol, qty, avg_cost in ledger_rows(
        data_dir, "select symbol, qty, avg_cost from positions"
    ):
        shares, cost = held.get(symbol, (ZERO, ZERO))
        held[symbol] = (
            shares + Decimal(str(qty)),
            cost + Decimal(str(qty)) * Decimal(str(avg_cost)),
        )
    return {symbol: value for symbol, value in held.items() if value[0]}


def assert_positions_agree(venue: FakeAlpaca, data_dir: Path) -> None:
    local = {symbol: shares for symbol, (shares, _) in ledger_positions(data_dir).items()}
    at_venue = {symbol: h.qty for symbol, h in venue.ledger.holdings.items() if h.qty}
    assert local == at_venue


def assert_costs_agree(venue: FakeAlpaca, data_dir: Path) -> None:
    """Average cost per symbol (at the ledger's precision) and realized P&L equal the venue's."""
    local = {
        symbol: to_avg_price(cost / shares)
        for symbol, (shares, cost) in ledger_positions(data_dir).items()
    }
    at_venue = {
        symbol: to_avg_price(h.cost / h.qty) for symbol, h in venue.ledger.holdings.items() if h.qty
    }
    assert local == at_venue
    realized = sum(
        (
            Decimal(str(pnl))
            for (pnl,) in ledger_rows(data_dir, "select realized_pnl from positions")
        ),
        ZERO,
    )
    assert realized == venue_realized_pnl(venue)


def venue_realized_pnl(venue: FakeAlpaca) -> Decimal:
    """The P&L the venue's executions realized, at average cost per symbol (the fake keeps
    cost and quantity, not P&L)."""
    held: dict[str, tuple[Decimal, Decimal]] = {}
    realized = ZERO
    for execution in venue.ledger.executions:
        shares, cost = held.get(execution.symbol, (ZERO, ZERO))
        signed = execution.qty if execution.side == "buy" else -execution.qty
        if shares == ZERO or (shares > ZERO) == (signed > ZERO):
            held[execution.symbol] = (shares + signed, cost + signed * execution.price)
            continue
        closed = min(abs(signed), abs(shares)).copy_sign(shares)
        average = cost / shares
        realized += closed * (execution.price - average)
        left = shares - closed
        opened = signed + closed
        held[execution.symbol] = (left + opened, left * average + opened * execution.price)
    return realized


def assert_invariants(venue: FakeAlpaca, data_dir: Path, watch: StatusWatch) -> None:
    """Everything RELIABILITY.md asks after a scenario, the trader stopped and reconciled."""
    assert_no_duplicates(venue)
    assert_orders_linked(venue, data_dir)
    assert_fills_booked_once(venue, data_dir)
    assert_signals_decided(data_dir)
    assert_positions_agree(venue, data_dir)
    watch.assert_never_backwards()


class StatusWatch:
    """Reads every order's status from the ledger every `every_s` while the block runs, and
    keeps, per order, the statuses seen in turn with the (event loop) time each was first
    seen. A status held for less than a poll can be missed; the checks allow for that."""

    def __init__(self, data_dir: Path, *, every_s: float = 0.025) -> None:
        self._db = data_dir / "trader.db"
        self._every_s = every_s
        self.seen: dict[str, list[tuple[OrderStatus, float]]] = {}
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.poll()

    def statuses(self, coid: str) -> list[OrderStatus]:
        return [status for status, _ in self.seen.get(coid, [])]

    def first_seen(self, coid: str, status: OrderStatus) -> float | None:
        return next((at for s, at in self.seen.get(coid, []) if s is status), None)

    def left_at(self, coid: str, status: OrderStatus) -> float | None:
        """When the order was first seen past `status`, having been seen in it."""
        history = self.seen.get(coid, [])
        for index, (seen, _) in enumerate(history[:-1]):
            if seen is status:
                return history[index + 1][1]
        return None

    def assert_never_backwards(self) -> None:
        for coid, history in self.seen.items():
            for (before, _), (after, _) in itertools.pairwise(history):
                assert after in _REACHABLE[before], f"{coid} went from {before} back to {after}"

    async def poll(self) -> None:
        rows = await asyncio.to_thread(self._read)
        now = asyncio.get_running_loop().time()
        for coid, raw in rows:
            status = OrderStatus(raw)
            history = self.seen.setdefault(coid, [])
            if not history or history[-1][0] is not status:
                history.append((status, now))

    async def _run(self) -> None:
        while True:
            await self.poll()
            await asyncio.sleep(self._every_s)

    def _read(self) -> list[tuple[str, str]]:
        """Nothing until the trader has created its database and tables."""
        if not self._db.exists():
            return []
        with contextlib.closing(sqlite3.connect(self._db, timeout=5)) as db:
            try:
                return db.execute("select client_order_id, status from orders").fetchall()
            except sqlite3.OperationalError:
                return []
