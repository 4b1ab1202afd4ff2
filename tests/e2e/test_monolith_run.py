"""The monolith as a user runs it: a real `trader run` process, stopped and started again."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

SESSION_DATE = "2026-11-20"


def _run(data_dir: Path, *args: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "TRADER_DATA_DIR": str(data_dir),
        "TRADER_SYNTHETIC__SESSION_DATE": SESSION_DATE,
        "TRADER_SYNTHETIC__SYMBOLS": "120",
        "TRADER_LOG_LEVEL": "warning",
    }
    done = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "run", "--json", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return summary


def _ledger_rows(data_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(data_dir / "trader.db") as db:
        return db.execute(sql).fetchall()


def test_paper_session_trades_and_a_restart_continues(tmp_path: Path) -> None:
    first = _run(tmp_path, "--minutes", "35", "--speed", "60", "--seed", "3")
    assert first["ticks"] > 10_000
    assert first["bars"] > 1_000
    assert first["orders"] > 0
    assert first["fills"] > 0
    assert (tmp_path / "ticks").is_dir()
    _signals_explain_themselves(tmp_path)

    second = _run(tmp_path, "--minutes", "20", "--speed", "60", "--seed", "3")
    assert second["orders"] >= first["orders"]
    assert second["fills"] >= first["fills"]

    duplicates = _ledger_rows(
        tmp_path,
        "select client_order_id, count(*) from orders group by client_order_id having count(*) > 1",
    )
    assert duplicates == []
    double_fills = _ledger_rows(
        tmp_path, "select execution_id from fills group by execution_id having count(*) > 1"
    )
    assert double_fills == []
    positions = dict(
        ((s, y), q)
        for s, y, q in _ledger_rows(tmp_path, "select strategy, symbol, qty from positions")
    )
    lots = _ledger_rows(
        tmp_path, "select strategy, symbol, sum(cast(qty_open as real)) from lots group by 1, 2"
    )
    for strategy, symbol, open_qty in lots:
        assert float(positions[(strategy, symbol)]) == pytest.approx(open_qty)


def _trader(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRADER_DATA_DIR": str(data_dir), "TRADER_LOG_LEVEL": "warning"}
    return subprocess.run(
        [sys.executable, "-m", "app.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_halt_survives_kill_9_and_only_an_audited_resume_clears_it(tmp_path: Path) -> None:
    """S11 with real processes: halted, killed, restarted: not one order."""
    assert _trader(tmp_path, "db", "upgrade").returncode == 0
    halted = _trader(tmp_path, "halt", "--reason", "e2e kill switch")
    assert halted.returncode == 0, halted.stderr
    env = {
        **os.environ,
        "TRADER_DATA_DIR": str(tmp_path),
        "TRADER_SYNTHETIC__SESSION_DATE": SESSION_DATE,
        "TRADER_LOG_LEVEL": "warning",
    }
    running = subprocess.Popen(
        [sys.executable, "-m", "app.cli.main", "run", "--json", "--speed", "60"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        running.wait(timeout=20)
    except subprocess.TimeoutExpired:
        running.kill()  # kill -9: no drain, no goodbye
        running.wait()
    summary = _run(tmp_path, "--minutes", "30", "--speed", "60")
    assert summary["signals"] > 0
    assert summary["orders"] == 0
    reasons = {r for (r,) in _ledger_rows(tmp_path, "select decision_reason from signals")}
    # the arbiter speaks first (a rival won, a filter refused); whatever reaches risk is halted
    risk_reasons = {r for r in reasons if not r.startswith("arbitration: ")}
    assert risk_reasons, reasons
    assert all("halted (global: kill_switch)" in reason for reason in risk_reasons), reasons

    refused = _trader(tmp_path, "resume")
    assert refused.returncode != 0  # a resume must say why
    resumed = _trader(tmp_path, "resume", "--reason", "checked the e2e")
    assert resumed.returncode == 0, resumed.stderr
    audit = _ledger_rows(tmp_path, "select action, scope, detail from audit_log order by id")
    actions = [action for action, _, _ in audit]
    assert actions[0] == "halt" and actions[-1] == "resume"
    assert set(actions) == {"halt", "daily_reset", "resume"}  # the reset did not clear it
    assert "checked the e2e" in audit[-1][2]


def test_a_recorded_session_replays_from_the_tick_store(tmp_path: Path) -> None:
    recorded = tmp_path / "recorded"
    first = _run(recorded, "--minutes", "15", "--speed", "60", "--seed", "5")
    replayed = tmp_path / "replayed"
    shutil.copytree(recorded / "ticks", replayed / "ticks")
    again = _run(replayed, "--feed", "replay", "--minutes", "10", "--speed", "60")
    assert again["ticks"] > 0.3 * first["ticks"]
    assert again["ticks_quarantined"] == 0


def _signals_explain_themselves(data_dir: Path) -> None:
    """Several strategies fire, and every recorded signal carries its audit: what fired and
    the indicators then, the arbiter's word on entries, the decision."""
    strategies = {s for (s,) in _ledger_rows(data_dir, "select distinct strategy from signals")}
    assert len(strategies) >= 3, strategies
    done = _trader(data_dir, "signals", "--last", "20", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(records) == 20
    for record in records:
        signal, decision = record["signal"], record["decision"]
        assert signal["reason"] and decision["reason"]
        if signal["kind"] == "entry":
            assert signal["indicators"]
            assert decision["checks"]["arbitration"]
    table = _trader(data_dir, "signals", "--last", "5")
    assert table.returncode == 0 and "last 5 signals" in table.stdout
