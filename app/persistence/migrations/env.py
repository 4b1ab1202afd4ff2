"""Alembic's environment for the ledger schema; Alembic executes this file, nothing imports it.

`app.persistence.migrate` hands over an open connection in `config.attributes["connection"]`
and owns its transaction. From the alembic command line (for writing new revisions), an async
engine is built from `-x url=...`:

    alembic -c app/persistence/migrations/alembic.ini -x url=sqlite+aiosqlite:///dev.db check
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from app.persistence import backtest_tables  # noqa: F401 - its tables join `metadata`
from app.persistence.engine import make_engine
from app.persistence.tables import metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_with_engine(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


def command_line_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise RuntimeError("pass the database URL: alembic -x url=<sqlalchemy url> ...")
    return url


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported: run against a database")
handed_over = context.config.attributes.get("connection")
if handed_over is None:
    asyncio.run(run_with_engine(command_line_url()))
else:
    run_on(handed_over)
