"""Async engines for the ledger: PostgreSQL (asyncpg) or SQLite (aiosqlite), set up the same way.

SQLite connections get write-ahead logging, enforced foreign keys and a busy timeout, and
SQLAlchemy emits BEGIN itself so that every transaction (DDL included) is real: the sqlite3
driver's legacy mode would otherwise autocommit DDL and run SELECTs outside transactions.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from app.persistence.errors import UnsupportedDatabaseError

SUPPORTED_DRIVERS = frozenset({"sqlite+aiosqlite", "postgresql+asyncpg"})
SQLITE_BUSY_TIMEOUT_MS = 5_000


def make_engine(url: str) -> AsyncEngine:
    """An engine for a `sqlite+aiosqlite://` or `postgresql+asyncpg://` URL; connects lazily."""
    driver = make_url(url).drivername
    if driver not in SUPPORTED_DRIVERS:
        raise UnsupportedDatabaseError(
            f"unsupported database driver {driver!r}: use one of {sorted(SUPPORTED_DRIVERS)}"
        )
    engine = create_async_engine(
        url,
        json_serializer=encode_json,
        json_deserializer=msgspec.json.decode,
        pool_pre_ping=driver.startswith("postgresql"),
    )
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        event.listen(engine.sync_engine, "begin", _begin_sqlite)
    return engine


def encode_json(value: Any) -> str:
    """JSON for document columns; NaN and infinities become null (PostgreSQL refuses them)."""
    return msgspec.json.encode(value).decode()


def _configure_sqlite(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # isolation_level None stops the driver's own BEGIN handling; _begin_sqlite takes over.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")
