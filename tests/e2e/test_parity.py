"""Parity: the same synthetic session through the monolith and through the sharded topology
(router + 4 shard processes + executor over Redis) yields the same signals.

Trading is halted in both runs, so no position (whose fills depend on timing) can steer a
strategy: the signals then depend on the tape alone, and must be identical.
"""

from __future__ import annotations

import datetime
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from app.domain.calendar import session_open_ns

pytestmark = [pytest.mark.e2e, pytest.mark.redis]

DAY = "2026-11-20"
SPEED, RUN_S, CUTOFF_MIN = 180, 30, 70
COMMON = {
    "TRADER_SYNTHETIC__SESSION_DATE": DAY,
    "TRADER_SYNTHETIC__SYMBOLS": "60",
    "TRADER_SYNTHETIC__SEED": "11",
    "TRADER_SYNTHETIC__SPEED": str(SPEED),
    "TRADER_LOG_LEVEL": "warning",
}


def _trader(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli.main", *args],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]


def _drop_namespace(prefix: str) -> None:
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def _signals(data_dir: Path) -> set[str]:
    cutoff = session_open_ns(datetime.date.fromisoformat(DAY)) + CUTOFF_MIN * 60 * 10**9
    with sqlite3.connect(data_dir / "trader.db") as db:
        rows = db.execute("select dedup_key, ts_ns from signals").fetchall()
    return {key for key, ts in rows if ts < cutoff}


def test_monolith_and_sharded_runs_give_the_same_signals(tmp_path: Path) -> None:
    mono_dir, shard_dir = tmp_path / "monolith", tmp_path / "sharded"
    mono = {**os.environ, **COMMON, "TRADER_DATA_DIR": str(mono_dir)}
    _trader(mono, "db", "upgrade")
    _trader(mono, "halt", "--reason", "parity: signals only")
    _trader(mono, "run", "--json", "--duration", str(RUN_S))

    prefix = f"parity-{secrets.token_hex(4)}"
    sharded = {
        **os.environ,
        **COMMON,
        "TRADER_DATA_DIR": str(shard_dir),
        "TRADER_MODE": "sharded",
        "TRADER_SHARD_COUNT": "4",
        "TRADER_BUS_PREFIX": prefix,
        "TRADER_SYNTHETIC__ANCHOR_NS": str(time.time_ns() + 6_000_000_000),
    }
    _trader(sharded, "db", "upgrade")
    _trader(sharded, "halt", "--reason", "parity: signals only")
    roles = [("executor", {}), *(("shard", {"TRADER_SHARD_ID": str(i)}) for i in range(4))]
    workers = [
        subprocess.Popen([sys.executable, "-m", f"workers.{role}"], env={**sharded, **extra})
        for role, extra in [*roles, ("router", {})]
    ]
    try:
        time.sleep(6 + RUN_S)
    finally:
        for worker in reversed(workers):
            worker.send_signal(signal.SIGTERM)
        codes = [worker.wait(timeout=60) for worker in workers]
        _drop_namespace(prefix)
    assert codes == [0] * len(workers)

    monolith_signals, sharded_signals = _signals(mono_dir), _signals(shard_dir)
    assert len(monolith_signals) >= 3
    assert sharded_signals == monolith_signals
