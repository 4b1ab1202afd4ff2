"""A lockstep paper session is reproducible to the fill: two runs of the same session agree on
every signal, decision, order and fill up to where the shorter one stopped."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ENV = {
    "TRADER_SYNTHETIC__LOCKSTEP_MS": "1000",
    "TRADER_SYNTHETIC__SESSION_DATE": "2026-11-20",
    "TRADER_SYNTHETIC__SYMBOLS": "60",
    "TRADER_SYNTHETIC__SEED": "5",
    "TRADER_LOG_LEVEL": "warning",
}


def _run(data_dir: Path, minutes: int) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "run", "--json"],
        env={
            **os.environ,
            **ENV,
            "TRADER_SYNTHETIC__MINUTES": str(minutes),
            "TRADER_DATA_DIR": str(data_dir),
        },
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]


def _query(data_dir: Path, sql: str, *args: int) -> list[tuple[object, ...]]:
    with sqlite3.connect(data_dir / "trader.db") as db:
        return db.execute(sql, args).fetchall()


def test_two_lockstep_runs_agree_to_the_fill(tmp_path: Path) -> None:
    short, long = tmp_path / "short", tmp_path / "long"
    _run(short, 40)
    _run(long, 60)
    (cutoff,) = _query(short, "select max(ts_ns) from fills")[0]
    assert isinstance(cutoff, int)
    queries = [
        "select execution_id, client_order_id, qty, price, ts_ns from fills where ts_ns < ?"
        " order by ts_ns, execution_id",
        "select client_order_id, symbol, side, qty, limit_price, created_ns from orders"
        " where created_ns < ? order by client_order_id",
        "select dedup_key, decision_approved, decision_reason, decision_qty from signals"
        " where ts_ns < ? order by dedup_key",
    ]
    for sql in queries:
        first, second = _query(short, sql, cutoff), _query(long, sql, cutoff)
        assert first, sql
        assert first == second, sql
