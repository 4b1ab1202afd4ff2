"""Throw-away PostgreSQL databases for tests: created on the shared server, dropped afterwards.

The server comes from TRADER_TEST_POSTGRES_URL (an asyncpg URL of a database to connect to for
CREATE/DROP DATABASE), by default the local trust-auth server. An unreachable server fails the
test with a clear message; it is never skipped silently.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

ADMIN_URL = os.environ.get(
    "TRADER_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


@asynccontextmanager
async def temporary_database() -> AsyncIterator[str]:
    """Yield the URL of a new, empty database named trader_test_<random hex>; drop it after."""
    name = f"trader_test_{secrets.token_hex(6)}"
    admin = create_async_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        try:
            async with admin.connect() as connection:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
        except (OSError, DBAPIError) as exc:
            where = make_url(ADMIN_URL).render_as_string(hide_password=True)
            pytest.fail(
                f"PostgreSQL at {where} is unreachable or refused CREATE DATABASE ({exc!r}); "
                "start it or point TRADER_TEST_POSTGRES_URL at one. "
                "Run `pytest -m 'not postgres'` to leave these tests out on purpose.",
                pytrace=False,
            )
        try:
            yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()
