from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from app.persistence.engine import SQLITE_BUSY_TIMEOUT_MS, encode_json, make_engine
from app.persistence.errors import UnsupportedDatabaseError


async def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'pragmas.db'}")
    try:
        async with engine.connect() as connection:
            pragmas = [
                await connection.scalar(text(f"PRAGMA {name}"))
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            ]
    finally:
        await engine.dispose()
    assert pragmas == ["wal", 1, SQLITE_BUSY_TIMEOUT_MS]


async def test_sqlite_ddl_is_transactional(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'ddl.db'}")
    try:
        async with engine.connect() as connection:
            async with connection.begin() as transaction:
                await connection.execute(text("CREATE TABLE scratch (id INTEGER)"))
                await transaction.rollback()
            tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    assert tables == []


@pytest.mark.parametrize(
    "url", ["sqlite:///ledger.db", "postgresql+psycopg://localhost/x", "mysql+aiomysql://h/x"]
)
def test_only_the_async_drivers_the_ledger_runs_on_are_accepted(url: str) -> None:
    with pytest.raises(UnsupportedDatabaseError, match="unsupported database driver"):
        make_engine(url)


def test_json_documents_turn_non_finite_floats_into_null() -> None:
    assert encode_json({"rvol": 1.5, "ema": float("nan"), "z": float("inf")}) == (
        '{"rvol":1.5,"ema":null,"z":null}'
    )
