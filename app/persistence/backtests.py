"""`SqlBacktestStore`: backtest runs and their trades, on PostgreSQL or SQLite, one code path.

A run's id is the hash of its canonical configuration (see app.backtest.identity), so saving a
run again replaces the earlier one, trades included, in one transaction: the id keeps naming
the latest result of that configuration. The store also reads the splits recorded by
`trader split`, which a backtest applies to the history it replays.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.corporate_action import Split
from app.domain.signal import Side
from app.persistence.backtest_tables import backtest_runs, backtest_trades
from app.persistence.migrate import open_at_head
from app.persistence.statements import upsert
from app.persistence.tables import corporate_actions


class BacktestTrade(msgspec.Struct, frozen=True):
    """One round trip: an entry lot from its first fill until it was closed entirely.

    `entry_price` is the lot's average fill, `exit_price` the quantity-weighted average of its
    exit fills; `fees` are the entry's and the exits' together, and `pnl` is net of all of them.
    `rule` names what fired the entry (see app.backtest.trades); `exit_reason` joins the
    reasons of the exits in order when several closed it (`target+trailing_stop`).
    """

    strategy: str
    rule: str
    symbol: str
    side: Side
    entry_ns: int
    exit_ns: int
    entry_price: Decimal
    exit_price: Decimal
    qty: Decimal
    fees: Decimal
    pnl: Decimal
    exit_reason: str


class BacktestRun(msgspec.Struct, frozen=True):
    """A finished run: its configuration document (whose hash is `id`) and summary metrics."""

    id: str
    config: dict[str, Any]
    params: dict[str, str]
    period_from: str
    period_to: str
    strategies: list[str]
    summary: dict[str, Any]
    created_ns: int


class SqlBacktestStore:
    """The constructor does no I/O; `start()` connects and checks the schema is at head."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._engine: AsyncEngine | None = None

    async def start(self) -> None:
        if self._engine is None:
            self._engine = await open_at_head(self._url, what="backtest")

    async def close(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.dispose()

    def _require(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("the backtest store is not started")
        return self._engine

    async def save(self, run: BacktestRun, trades: Sequence[BacktestTrade]) -> str:
        """Store the run and its trades, replacing what an earlier run of the same id left."""
        async with self._require().begin() as connection:
            await connection.execute(
                upsert(
                    connection.dialect,
                    backtest_runs,
                    msgspec.to_builtins(run),
                    key=[backtest_runs.c.id],
                )
            )
            await connection.execute(
                delete(backtest_trades).where(backtest_trades.c.run_id == run.id)
            )
            if trades:
                await connection.execute(
                    insert(backtest_trades),
                    [_trade_row(run.id, seq, trade) for seq, trade in enumerate(trades)],
                )
        return run.id

    async def run(self, run_id: str) -> BacktestRun | None:
        query = select(backtest_runs).where(backtest_runs.c.id == run_id)
        async with self._require().connect() as connection:
            row = (await connection.execute(query)).mappings().first()
        return None if row is None else _run_from_row(row)

    async def runs(self) -> list[BacktestRun]:
        """Every stored run, newest first."""
        async with self._require().connect() as connection:
            rows = await connection.execute(
                select(backtest_runs).order_by(
                    backtest_runs.c.created_ns.desc(), backtest_runs.c.id
                )
            )
            return [_run_from_row(row) for row in rows.mappings().all()]

    async def trades(self, run_id: str) -> list[BacktestTrade]:
        """The run's trades in the order they were saved."""
        async with self._require().connect() as connection:
            rows = await connection.execute(
                select(backtest_trades)
                .where(backtest_trades.c.run_id == run_id)
                .order_by(backtest_trades.c.seq)
            )
            return [_trade_from_row(row) for row in rows.mappings().all()]

    async def splits(self, symbols: Collection[str] | None = None) -> list[Split]:
        """Recorded splits (of these symbols), oldest first."""
        query = select(corporate_actions).order_by(
            corporate_actions.c.effective_ns, corporate_actions.c.symbol
        )
        if symbols is not None:
            query = query.where(corporate_actions.c.symbol.in_(sorted(symbols)))
        async with self._require().connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [
            Split(row["symbol"], row["numerator"], row["denominator"], row["effective_ns"])
            for row in rows
        ]


def _run_from_row(row: RowMapping) -> BacktestRun:
    # column names come back as SQLAlchemy's str subclass, which msgspec does not take as str
    return msgspec.convert({str(key): value for key, value in row.items()}, BacktestRun)


def _trade_row(run_id: str, seq: int, trade: BacktestTrade) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "seq": seq,
        "strategy": trade.strategy,
        "rule": trade.rule,
        "symbol": trade.symbol,
        "side": trade.side.value,
        "entry_ns": trade.entry_ns,
        "exit_ns": trade.exit_ns,
        "entry_price": trade.entry_price,
        "exit_price": trade.exit_price,
        "qty": trade.qty,
        "fees": trade.fees,
        "pnl": trade.pnl,
        "exit_reason": trade.exit_reason,
    }


def _trade_from_row(row: RowMapping) -> BacktestTrade:
    return BacktestTrade(
        strategy=row["strategy"],
        rule=row["rule"],
        symbol=row["symbol"],
        side=Side(row["side"]),
        entry_ns=row["entry_ns"],
        exit_ns=row["exit_ns"],
        entry_price=row["entry_price"],
        exit_price=row["exit_price"],
        qty=row["qty"],
        fees=row["fees"],
        pnl=row["pnl"],
        exit_reason=row["exit_reason"],
    )
