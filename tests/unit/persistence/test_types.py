from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.persistence.engine import make_engine
from app.persistence.types import Money, canonical

amounts = Table(
    "amounts", MetaData(), Column("id", Integer, primary_key=True), Column("value", Money)
)


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'types.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(amounts.metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.mark.parametrize(
    "text",
    ["0", "0E-10", "10000", "2.50", "-123456789012.0123456789", "3.1415926535897932384626433"],
)
async def test_money_keeps_the_exact_decimal_as_text_on_sqlite(
    sqlite: AsyncEngine, text: str
) -> None:
    async with sqlite.begin() as connection:
        await connection.execute(insert(amounts).values(id=1, value=Decimal(text)))
        stored = await connection.scalar(select(amounts.c.value))
        storage = await connection.scalar(select(func.typeof(amounts.c.value)))
    assert repr(stored) == repr(Decimal(text))
    assert storage == "text"


@pytest.mark.parametrize(
    ("given", "expected"),
    [("1E+4", "10000"), ("-1.2E+3", "-1200"), ("-0", "0"), ("-0.00", "0.00"), ("2.50", "2.50")],
)
def test_canonical_money_has_no_positive_exponent_and_no_negative_zero(
    given: str, expected: str
) -> None:
    assert repr(canonical(Decimal(given))) == repr(Decimal(expected))


@pytest.mark.parametrize("value", [2.5, Decimal("NaN"), Decimal("-Infinity")])
async def test_money_refuses_floats_and_non_finite_values(
    sqlite: AsyncEngine, value: object
) -> None:
    async with sqlite.begin() as connection:
        with pytest.raises(StatementError, match="money"):
            await connection.execute(insert(amounts).values(id=1, value=value))


async def test_money_null_stays_null(sqlite: AsyncEngine) -> None:
    async with sqlite.begin() as connection:
        await connection.execute(insert(amounts).values(id=1, value=None))
        assert await connection.scalar(select(amounts.c.value)) is None
