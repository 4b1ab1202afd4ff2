"""Databases for the contract suites that run against every SQL backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.persistence.migrate import upgrade
from tests.integration.postgres import temporary_database

SQL_BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=SQL_BACKENDS)
async def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a new, empty database: a SQLite file, or a throw-away PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'contract.db'}"
        return
    async with temporary_database() as url:
        yield url


@pytest.fixture
async def migrated_db(empty_db: str) -> str:
    """The same, migrated to the latest revision."""
    await upgrade(empty_db)
    return empty_db
