"""Parity: a synthetic session recorded by a lockstep monolith paper run, replayed through the
backtest runner, gives exactly the same signals, decisions, orders and fills."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pytest

from app.backtest.runner import run_lockstep
from app.cli.backtest import execution_setup
from app.settings import Settings
from app.strategies.catalog import default_suite
from app.tickstore.parquet import ParquetTickStore

pytestmark = pytest.mark.e2e

DAY = dt.date(2026, 11, 20)
STEP_MS = 1000
ENV = {
    "TRADER_SYNTHETIC__LOCKSTEP_MS": str(STEP_MS),
    "TRADER_SYNTHETIC__SESSION_DATE": DAY.isoformat(),
    "TRADER_SYNTHETIC__SYMBOLS": "40",
    "TRADER_SYNTHETIC__SEED": "9",
    "TRADER_SYNTHETIC__QUOTE_PROB": "0",  # the tick store records trades only
    "TRADER_LOG_LEVEL": "warning",
}
MARGIN_NS = 120 * 10**9  # the paper run stops mid-step; compare what it finished


def _paper_run(data_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "run", "--json", "--duration", "15"],
        env={**os.environ, **ENV, "TRADER_DATA_DIR": str(data_dir)},
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]


def _rows(data_dir: Path, sql: str, *args: int) -> list[tuple[object, ...]]:
    with sqlite3.connect(data_dir / "trader.db") as db:
        return db.execute(sql, args).fetchall()


async def test_backtest_replays_the_paper_session_exactly(tmp_path: Path) -> None:
    _paper_run(tmp_path)
    (last,) = _rows(tmp_path, "select max(ts_ns) from signals")[0]
    assert isinstance(last, int)
    cutoff = last - MARGIN_NS

    store = ParquetTickStore(tmp_path / "ticks")
    session = await run_lockstep(
        store,
        day=DAY,
        step_ns=STEP_MS * 1_000_000,
        strategies=default_suite(),
        setup=execution_setup(Settings()),
        seed=0,
    )
    await store.close()
    journal = session.journal
    assert journal is not None

    paper_decisions = _rows(
        tmp_path,
        "select dedup_key, decision_approved, decision_reason, decision_qty from signals"
        " where ts_ns < ? order by dedup_key",
        cutoff,
    )
    replayed_decisions = sorted(
        (s.dedup_key, int(d.approved), d.reason, None if d.qty is None else str(d.qty))
        for s, d in journal.decided
        if s.ts_ns < cutoff
    )
    assert len(paper_decisions) > 20
    assert [(k, a, r, q) for k, a, r, q in paper_decisions] == replayed_decisions

    paper_orders = _rows(
        tmp_path,
        "select client_order_id, symbol, side, qty, limit_price, created_ns from orders"
        " where created_ns < ? order by client_order_id",
        cutoff,
    )
    replayed_orders = sorted(
        (
            o.client_order_id,
            o.symbol,
            o.side.value,
            str(o.qty),
            None if o.limit_price is None else str(o.limit_price),
            o.created_ns,
        )
        for o in journal.orders
        if o.created_ns < cutoff
    )
    assert paper_orders and _normal(paper_orders) == _normal(replayed_orders)

    paper_fills = _rows(
        tmp_path,
        "select client_order_id, qty, price, ts_ns from fills where ts_ns < ?"
        " order by ts_ns, client_order_id, qty, price",
        cutoff,
    )
    replayed_fills = sorted(
        ((f.client_order_id, str(f.qty), str(f.price), f.ts_ns) for f in journal.fills),
        key=_fill_order,
    )
    assert len(paper_fills) > 10
    assert _normal(paper_fills) == _normal([f for f in replayed_fills if f[3] < cutoff])


def _fill_order(row: tuple[str, str, str, int]) -> tuple[int, str, Decimal, Decimal]:
    return row[3], row[0], Decimal(row[1]), Decimal(row[2])


def _normal(rows: Sequence[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Money compared as numbers (the ledger stores exact decimals as text)."""
    return [
        tuple(Decimal(str(v)) if isinstance(v, (str, int, float)) and _is_number(v) else v
              for v in row)
        for row in rows
    ]  # fmt: skip


def _is_number(value: object) -> bool:
    try:
        Decimal(str(value))
    except ArithmeticError:
        return False
    return True
