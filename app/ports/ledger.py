"""The trading ledger: signals with their decisions, orders, fills, lots, trades, positions."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

import msgspec

from app.domain.corporate_action import Split
from app.domain.decision import Decision
from app.domain.execution import Fill
from app.domain.exit_state import ExitState
from app.domain.order import Order, OrderStatus
from app.domain.position import Lot, Position, Trade
from app.domain.signal import Signal


class StaleOrderUpdateError(Exception):
    """An update would move a stored order backwards; the stored row was left as it is.

    The writer holds an outdated copy of the order: reload it with `get_order` and re-apply.
    """

    def __init__(
        self, client_order_id: str, *, stored: OrderStatus, attempted: OrderStatus
    ) -> None:
        super().__init__(
            f"refused to write {client_order_id} as {attempted}: the stored order is {stored}"
        )
        self.client_order_id = client_order_id
        self.stored = stored
        self.attempted = attempted


class LedgerCounts(msgspec.Struct, frozen=True):
    signals: int
    orders: int
    fills: int
    trades: int


class Ledger(Protocol):
    async def start(self) -> None:
        """Connect and check the schema is at the latest migration."""
        ...

    async def close(self) -> None: ...

    async def record_signal(self, signal: Signal, decision: Decision) -> bool:
        """Store a signal with its decision; False when its dedup key is already recorded."""
        ...

    async def insert_order(self, order: Order) -> bool:
        """Commit a new order row; False when its client_order_id already exists."""
        ...

    async def record_decision(
        self, signal: Signal, decision: Decision, order: Order | None
    ) -> bool:
        """In one transaction: the signal with its decision and, when approved, the order intent.
        False (nothing written) when the signal's dedup key is already recorded."""
        ...

    async def record_decisions(
        self, decided: Sequence[tuple[Signal, Decision, Order | None]]
    ) -> list[bool]:
        """In one transaction: each signal with its decision and, when approved, its order
        intent. One flag per signal, in order: False when its dedup key is already recorded
        (by an earlier write or by an earlier signal of the same call). All or nothing: when
        any flag is False nothing is written, so the caller can decide the new signals again
        without the replayed ones (whose decisions the others may have seen)."""
        ...

    async def update_order(self, order: Order) -> None:
        """Persist the order's status, fills so far and broker id."""
        ...

    async def book_fill(
        self, fill: Fill, *, order: Order, lot: Lot, position: Position, trade: Trade | None
    ) -> bool:
        """Atomically store the fill and its effects; False (nothing written) when the execution
        id was booked before."""
        ...

    async def get_order(self, client_order_id: str) -> Order | None: ...

    async def open_orders(self) -> list[Order]: ...

    async def recent_orders(self, limit: int) -> list[Order]: ...

    async def open_lots(self) -> list[Lot]: ...

    async def positions(self) -> list[Position]: ...

    async def trades(self, limit: int) -> list[Trade]: ...

    async def counts(self) -> LedgerCounts: ...

    async def apply_split(self, split: Split) -> Decimal | None:
        """Adjust lots, positions and exit states for a split in one transaction; returns the
        fractional shares left as cash in lieu, or None when it was applied before."""
        ...

    async def exit_states(self) -> list[ExitState]:
        """The exit state of every open lot (dropped when the lot closes)."""
        ...

    async def save_exit_states(self, states: Sequence[ExitState]) -> None: ...

    async def last_activity_ns(self) -> int | None:
        """The market time of the newest signal, order change or fill; None when empty."""
        ...
