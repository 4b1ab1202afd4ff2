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
from app.domain.strategy_config import StrategyConfig
from app.persistence.migrate import upgrade
from app.persistence.strategy_configs import SqlStrategyConfigStore
from app.settings import Settings
from app.strategies.base import Strategy
from app.strategies.catalog import build_configured, default_configs, default_suite
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
    "TRADER_SYNTHETIC__MINUTES": "60",
    "TRADER_LOG_LEVEL": "warning",
}
MARGIN_NS = 120 * 10**9  # the replay runs on past the paper run's end: compare what came before
# Every built-in exits by venue-held legs: the simulated venue works them in both runs.
BRACKET_EXIT = {
    "bracket": True,
    "stop_pct": 1.0,
    "trailing_pct": None,
    "trailing_atr": None,
    "targets": [{"pct": 1.5, "fraction": 1.0}],
}


async def _bracket_suite(data_dir: Path) -> list[Strategy]:
    """Store every built-in with bracket exits before the paper run starts; the same
    strategies for the replay."""
    url = Settings(data_dir=data_dir).ledger_url
    await upgrade(url)
    store = SqlStrategyConfigStore(url)
    await store.start()
    configs = [
        StrategyConfig(name=c.name, kind=c.kind, params=c.params, exit=BRACKET_EXIT)
        for c in default_configs()
    ]
    try:
        for config in configs:
            await store.save(config, now_ns=0)
    finally:
        await store.close()
    return [build_configured(c) for c in configs]


def _paper_run(data_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "run", "--json"],
        env={**os.environ, **ENV, "TRADER_DATA_DIR": str(data_dir)},
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]


def _rows(data_dir: Path, sql: str, *args: int) -> list[tuple[object, ...]]:
    with sqlite3.connect(data_dir / "trader.db") as db:
        return db.execute(sql, args).fetchall()


@pytest.mark.parametrize("brackets", [False, True], ids=["engine-exits", "bracket-legs"])
async def test_backtest_replays_the_paper_session_exactly(
    tmp_path: Path, brackets: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if brackets:  # legs go live once an entry has filled whole: small entries fill whole
        monkeypatch.setenv("TRADER_RISK__MAX_POSITION_VALUE", "1500")
    strategies = await _bracket_suite(tmp_path) if brackets else default_suite()
    _paper_run(tmp_path)
    (last,) = _rows(tmp_path, "select max(ts_ns) from signals")[0]
    assert isinstance(last, int)
    cutoff = last - MARGIN_NS

    store = ParquetTickStore(tmp_path / "ticks")
    session = await run_lockstep(
        store,
        day=DAY,
        step_ns=STEP_MS * 1_000_000,
        strategies=strategies,
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
    if brackets:
        leg_fills = [row for row in paper_fills if str(row[0]).endswith(("-tp", "-sl"))]
        assert leg_fills, "no position was closed by a venue-held leg"


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
