"""The ledger's writes: dialect-specific conflict handling and the guarded order update."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

from sqlalchemy import Column, ColumnElement, Insert, Table, Update, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from app.domain.order import TRANSITIONS, Order, OrderStatus
from app.persistence.codecs import Row, order_progress
from app.persistence.errors import UnsupportedDatabaseError
from app.persistence.tables import orders

ConflictInsert: TypeAlias = postgresql.Insert | sqlite.Insert


def _insert(dialect: Dialect, table: Table, row: Row) -> ConflictInsert:
    match dialect.name:
        case "postgresql":
            return postgresql.insert(table).values(row)
        case "sqlite":
            return sqlite.insert(table).values(row)
        case other:
            raise UnsupportedDatabaseError(f"no conflict handling for dialect {other!r}")


def insert_new(dialect: Dialect, table: Table, row: Row, *, key: Sequence[Column[Any]]) -> Insert:
    """INSERT that does nothing when a row with the same key exists (rowcount 0)."""
    return _insert(dialect, table, row).on_conflict_do_nothing(index_elements=key)


def upsert(dialect: Dialect, table: Table, row: Row, *, key: Sequence[Column[Any]]) -> Insert:
    """INSERT, or UPDATE every non-key column of the row with the same key."""
    statement = _insert(dialect, table, row)
    key_names = {column.name for column in key}
    changes = {name: statement.excluded[name] for name in row if name not in key_names}
    return statement.on_conflict_do_update(index_elements=key, set_=changes)


def stored_status_allows(order: Order) -> ColumnElement[bool]:
    """True for a stored order row whose status may move to `order`'s (the domain's TRANSITIONS).

    The same status is allowed too (a progress write such as another partial fill or the broker
    id arriving); a write that would move the status backwards matches nothing. Timestamps are
    not compared: fills carry the venue's clock, status changes ours, and fills arrive out of
    order.
    """
    sources = [
        status.value
        for status, targets in TRANSITIONS.items()
        if status is order.status or order.status in targets
    ]
    return orders.c.status.in_(sources)


def update_progress(order: Order) -> Update:
    """UPDATE of an order's progress that matches no row when it would regress the stored one."""
    return (
        update(orders)
        .where(orders.c.client_order_id == order.client_order_id, stored_status_allows(order))
        .values(order_progress(order))
    )


def non_terminal_statuses() -> list[str]:
    return [status.value for status in OrderStatus if not status.is_terminal]
