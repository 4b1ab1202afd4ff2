"""`SqlLedger`: the trading ledger on PostgreSQL (cluster) or SQLite (laptop), one code path.

Every write is one transaction. Replays are harmless: signals are unique by dedup key, orders by
client_order_id and fills by execution id, each enforced by INSERT ... ON CONFLICT DO NOTHING.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import Executable, delete, func, insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.domain.bracket import legs_of
from app.domain.corporate_action import Split
from app.domain.decision import Decision, SignalRecord
from app.domain.execution import Fill
from app.domain.exit_state import ExitState
from app.domain.order import Order, OrderStatus
from app.domain.position import Lot, Position, Trade
from app.domain.signal import Signal
from app.persistence.codecs import (
    fill_row,
    lot_from_row,
    lot_row,
    order_from_row,
    order_row,
    position_from_row,
    position_row,
    signal_record_from_row,
    signal_row,
    trade_from_row,
    trade_row,
)
from app.persistence.corporate_actions import apply_split
from app.persistence.errors import (
    DuplicateOrderError,
    InconsistentWriteError,
    StaleOrderUpdateError,
    UnknownOrderError,
)
from app.persistence.migrate import open_at_head
from app.persistence.statements import insert_new, non_terminal_statuses, update_progress, upsert
from app.persistence.tables import exit_states, fills, lots, orders, positions, signals, trades
from app.ports.ledger import LedgerCounts


class SqlLedger:
    """The `Ledger` port over SQLAlchemy. The constructor does no I/O; `start()` connects."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._engine: AsyncEngine | None = None

    async def start(self) -> None:
        """Connect and check the schema is at head; raises SchemaNotAtHeadError otherwise."""
        if self._engine is None:
            self._engine = await open_at_head(self._url, what="ledger")

    async def close(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.dispose()

    async def record_signal(self, signal: Signal, decision: Decision) -> bool:
        return await self.record_decision(signal, decision, None)

    async def record_decision(
        self, signal: Signal, decision: Decision, order: Order | None
    ) -> bool:
        """Store the signal with its decision and, if given, the order intent (with its bracket
        legs), in one transaction; see `record_decisions`."""
        (recorded,) = await self.record_decisions([(signal, decision, order)])
        return recorded

    async def record_decisions(
        self, decided: Sequence[tuple[Signal, Decision, Order | None]]
    ) -> list[bool]:
        """Store each signal with its decision and, if given, its order intent (with its bracket
        legs), all in one transaction.

        One flag per signal: False when its dedup key is already recorded, and then nothing at
        all is written (a decision made beside a replayed signal's order is not kept). Raises
        (writing nothing) InconsistentWriteError when an order is not its signal's, and
        DuplicateOrderError when a client_order_id is already taken.
        """
        for signal, _, order in decided:
            if order is not None and order.signal_key != signal.dedup_key:
                raise InconsistentWriteError(
                    f"order {order.client_order_id} belongs to {order.signal_key!r}, "
                    f"not to signal {signal.dedup_key!r}"
                )
        if not decided:
            return []
        dialect = self._db.dialect
        async with self._db.connect() as connection, connection.begin() as transaction:
            fresh: list[bool] = []
            for signal, decision, _ in decided:
                row = signal_row(signal, decision)
                recorded = await connection.execute(
                    insert_new(dialect, signals, row, key=[signals.c.dedup_key])
                )
                fresh.append(recorded.rowcount == 1)
            if not all(fresh):
                await transaction.rollback()
                return fresh
            for signal, _, order in decided:
                if order is not None:
                    await _insert_intent(connection, signal, order)
        return fresh

    async def insert_order(self, order: Order) -> bool:
        statement = insert_new(
            self._db.dialect, orders, order_row(order), key=[orders.c.client_order_id]
        )
        async with self._db.begin() as connection:
            result = await connection.execute(statement)
        return result.rowcount == 1

    async def update_order(self, order: Order) -> None:
        """Write status, fills so far, average price, broker id, reason and updated_ns.

        Raises UnknownOrderError for an order never inserted, and StaleOrderUpdateError (leaving
        the row untouched) when the stored status cannot transition to the order's: the writer
        holds an outdated copy and must not move the stored order backwards.
        """
        async with self._db.begin() as connection:
            await _write_progress(connection, order)

    async def book_fill(
        self, fill: Fill, *, order: Order, lot: Lot, position: Position, trade: Trade | None
    ) -> bool:
        """Store the fill, the order's progress, the lot, the position and the trade at once.

        Returns False, writing nothing, when the execution id was booked before. Raises (writing
        nothing) InconsistentWriteError when the objects do not belong to this fill, and
        StaleOrderUpdateError when the order would move backwards.
        """
        _check_belongs(fill, order=order, lot=lot, position=position, trade=trade)
        dialect = self._db.dialect
        async with self._db.connect() as connection, connection.begin() as transaction:
            booked = await connection.execute(
                insert_new(dialect, fills, fill_row(fill), key=[fills.c.execution_id])
            )
            if booked.rowcount == 0:
                await transaction.rollback()
                return False
            await _write_progress(connection, order)
            await connection.execute(
                upsert(dialect, lots, lot_row(lot), key=[lots.c.entry_order_id])
            )
            await connection.execute(
                upsert(
                    dialect,
                    positions,
                    position_row(position),
                    key=[positions.c.strategy, positions.c.symbol],
                )
            )
            if trade is not None:
                await connection.execute(insert(trades).values(trade_row(trade)))
            if lot.qty_open == 0:
                await connection.execute(
                    delete(exit_states).where(exit_states.c.entry_order_id == lot.entry_order_id)
                )
        return True

    async def apply_split(self, split: Split) -> Decimal | None:
        """Adjust the book for a split, once; see app.persistence.corporate_actions."""
        async with self._db.connect() as connection, connection.begin():
            return await apply_split(connection, split)

    async def exit_states(self) -> list[ExitState]:
        """The exit state of every open lot."""
        rows = await self._rows(
            select(exit_states).join(
                lots, (lots.c.entry_order_id == exit_states.c.entry_order_id) & lots.c.is_open
            )
        )
        return [
            ExitState(
                row["entry_order_id"], best_price=row["best_price"], targets_hit=row["targets_hit"]
            )
            for row in rows
        ]

    async def save_exit_states(self, states: Sequence[ExitState]) -> None:
        """Upsert exit states in one transaction."""
        if not states:
            return
        dialect = self._db.dialect
        async with self._db.connect() as connection, connection.begin():
            for state in states:
                row = {
                    "entry_order_id": state.entry_order_id,
                    "best_price": state.best_price,
                    "targets_hit": state.targets_hit,
                }
                await connection.execute(
                    upsert(dialect, exit_states, row, key=[exit_states.c.entry_order_id])
                )

    async def get_order(self, client_order_id: str) -> Order | None:
        rows = await self._rows(select(orders).where(orders.c.client_order_id == client_order_id))
        return order_from_row(rows[0]) if rows else None

    async def open_orders(self) -> list[Order]:
        """Orders not in a terminal status, oldest first."""
        rows = await self._rows(
            select(orders)
            .where(orders.c.status.in_(non_terminal_statuses()))
            .order_by(orders.c.created_ns, orders.c.client_order_id)
        )
        return [order_from_row(row) for row in rows]

    async def recent_orders(self, limit: int) -> list[Order]:
        """The `limit` most recently created orders, newest first."""
        rows = await self._rows(
            select(orders)
            .order_by(orders.c.created_ns.desc(), orders.c.client_order_id.desc())
            .limit(limit)
        )
        return [order_from_row(row) for row in rows]

    async def recent_signals(
        self, limit: int, *, strategy: str | None = None, symbol: str | None = None
    ) -> list[SignalRecord]:
        """The `limit` latest recorded signals with their decisions, newest first."""
        statement = select(signals)
        if strategy is not None:
            statement = statement.where(signals.c.strategy == strategy)
        if symbol is not None:
            statement = statement.where(signals.c.symbol == symbol)
        rows = await self._rows(statement.order_by(signals.c.id.desc()).limit(limit))
        return [signal_record_from_row(row) for row in rows]

    async def open_lots(self) -> list[Lot]:
        """Lots with quantity still open, oldest first."""
        rows = await self._rows(
            select(lots).where(lots.c.is_open).order_by(lots.c.opened_ns, lots.c.entry_order_id)
        )
        return [lot_from_row(row) for row in rows]

    async def positions(self) -> list[Position]:
        """Every position ever held, flat ones included (they carry realized P&L)."""
        rows = await self._rows(
            select(positions).order_by(positions.c.strategy, positions.c.symbol)
        )
        return [position_from_row(row) for row in rows]

    async def trades(self, limit: int) -> list[Trade]:
        """The `limit` latest trades by exit time, newest first."""
        rows = await self._rows(
            select(trades).order_by(trades.c.exit_ns.desc(), trades.c.id.desc()).limit(limit)
        )
        return [trade_from_row(row) for row in rows]

    async def counts(self) -> LedgerCounts:
        async with self._db.connect() as connection:
            found = [
                int(await connection.scalar(select(func.count()).select_from(table)) or 0)
                for table in (signals, orders, fills, trades)
            ]
        return LedgerCounts(signals=found[0], orders=found[1], fills=found[2], trades=found[3])

    async def last_activity_ns(self) -> int | None:
        newest = (
            select(func.max(signals.c.ts_ns).label("t"))
            .union_all(select(func.max(orders.c.updated_ns)), select(func.max(fills.c.ts_ns)))
            .subquery()
        )
        async with self._db.connect() as connection:
            found = await connection.scalar(select(func.max(newest.c.t)))
        return None if found is None else int(found)

    @property
    def _db(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("SqlLedger is not started: await start() first")
        return self._engine

    async def _rows(self, statement: Executable) -> Sequence[RowMapping]:
        async with self._db.connect() as connection:
            result = await connection.execute(statement)
            return result.mappings().all()


async def _insert_intent(connection: AsyncConnection, signal: Signal, order: Order) -> None:
    """Insert an approved signal's order with its bracket legs; DuplicateOrderError if taken."""
    for row in (order, *(legs_of(order) if order.has_bracket else ())):
        inserted = await connection.execute(
            insert_new(connection.dialect, orders, order_row(row), key=[orders.c.client_order_id])
        )
        if inserted.rowcount == 0:
            raise DuplicateOrderError(
                f"order {row.client_order_id} of new signal {signal.dedup_key!r} "
                "is already in the ledger"
            )


async def _write_progress(connection: AsyncConnection, order: Order) -> None:
    result = await connection.execute(update_progress(order))
    if result.rowcount == 1:
        return
    stored = await connection.scalar(
        select(orders.c.status).where(orders.c.client_order_id == order.client_order_id)
    )
    if stored is None:
        raise UnknownOrderError(f"no order {order.client_order_id} in the ledger")
    raise StaleOrderUpdateError(
        order.client_order_id, stored=OrderStatus(stored), attempted=order.status
    )


def _check_belongs(
    fill: Fill, *, order: Order, lot: Lot, position: Position, trade: Trade | None
) -> None:
    """Refuse to book objects that belong to another fill, order or position."""
    mismatches = {
        "order": order.client_order_id != fill.client_order_id,
        "lot": lot.entry_order_id not in (order.client_order_id, order.closes),
        "position": (position.strategy, position.symbol) != (order.strategy, order.symbol),
        "trade": trade is not None and trade.exit_execution_id != fill.execution_id,
    }
    wrong = [name for name, mismatch in mismatches.items() if mismatch]
    if wrong:
        raise InconsistentWriteError(
            f"fill {fill.execution_id} of {fill.client_order_id}: wrong {', '.join(wrong)}"
        )
