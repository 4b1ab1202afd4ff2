"""Backtest runs and trades on every SQL backend: saved, read back, replaced by a re-run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.domain.corporate_action import Split
from app.domain.signal import Side
from app.persistence.backtest_tables import backtest_runs, backtest_trades
from app.persistence.backtests import BacktestRun, BacktestTrade, SqlBacktestStore
from app.persistence.engine import make_engine
from app.persistence.ledger import SqlLedger
from app.persistence.migrate import upgrade
from tests.integration.postgres import temporary_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        location = f"sqlite+aiosqlite:///{tmp_path / 'backtests.db'}"
        await upgrade(location)
        yield location
        return
    async with temporary_database() as location:
        await upgrade(location)
        yield location


@pytest.fixture
async def store(url: str) -> AsyncIterator[SqlBacktestStore]:
    backtests = SqlBacktestStore(url)
    await backtests.start()
    yield backtests
    await backtests.close()


def _run(run_id: str, *, total_return: float, created_ns: int) -> BacktestRun:
    return BacktestRun(
        id=run_id,
        config={"source": {"bars": {"sha256": "ab"}}, "seed": 7, "carry": False},
        params={"lookback": "30"},
        period_from="2026-03-02",
        period_to="2026-03-27",
        strategies=["breakout", "vwap_reclaim"],
        summary={"total_return": total_return, "sharpe": None, "by_strategy": {}},
        created_ns=created_ns,
    )


def _trade(pnl: str, *, symbol: str = "ABC") -> BacktestTrade:
    return BacktestTrade(
        strategy="breakout",
        rule="breakout",
        symbol=symbol,
        side=Side.BUY,
        entry_ns=1_000,
        exit_ns=2_000,
        entry_price=Decimal("10.04"),
        exit_price=Decimal("10.48000000"),
        qty=Decimal(1000),
        fees=Decimal("10.00"),
        pnl=Decimal(pnl),
        exit_reason="target+trailing_stop",
    )


async def test_a_run_and_its_trades_read_back_exactly(store: SqlBacktestStore) -> None:
    run = _run("r1", total_return=0.0043, created_ns=5)
    trades = [_trade("430.00"), _trade("-12.5", symbol="XYZ")]

    assert await store.save(run, trades) == "r1"

    assert await store.run("r1") == run
    assert await store.trades("r1") == trades
    assert await store.run("nope") is None
    assert await store.trades("nope") == []


async def test_saving_the_same_id_again_replaces_the_run_and_its_trades(
    store: SqlBacktestStore, url: str
) -> None:
    await store.save(_run("r1", total_return=0.01, created_ns=5), [_trade("1"), _trade("2")])
    await store.save(_run("r2", total_return=0.02, created_ns=6), [_trade("3")])

    again = _run("r1", total_return=0.03, created_ns=7)
    await store.save(again, [_trade("4")])

    assert await store.run("r1") == again
    assert [t.pnl for t in await store.trades("r1")] == [Decimal(4)]
    assert [t.pnl for t in await store.trades("r2")] == [Decimal(3)]
    assert [r.id for r in await store.runs()] == ["r1", "r2"]
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            runs = await connection.scalar(select(func.count()).select_from(backtest_runs))
            rows = await connection.scalar(select(func.count()).select_from(backtest_trades))
    finally:
        await engine.dispose()
    assert (runs, rows) == (2, 2)


async def test_the_store_reads_the_recorded_splits(store: SqlBacktestStore, url: str) -> None:
    ledger = SqlLedger(url)
    await ledger.start()
    try:
        for split in (Split("ABC", 2, 1, 300), Split("XYZ", 1, 10, 100), Split("ABC", 3, 1, 200)):
            await ledger.apply_split(split)
    finally:
        await ledger.close()

    assert await store.splits() == [
        Split("XYZ", 1, 10, 100),
        Split("ABC", 3, 1, 200),
        Split("ABC", 2, 1, 300),
    ]
    assert await store.splits(["ABC"]) == [Split("ABC", 3, 1, 200), Split("ABC", 2, 1, 300)]
