from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.postgres import temporary_database


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped when it ends."""
    async with temporary_database() as url:
        yield url
