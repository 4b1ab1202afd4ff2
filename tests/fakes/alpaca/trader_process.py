"""Running `trader` as a user does, against a FakeAlpaca in the test's own event loop: the
environment that points it at the fake (configuration only), the process, and the fake's
market played from a synthetic tape on the market clock both share through the anchor."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import os
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.clocks.live import LiveClock
from app.domain.calendar import session_open_ns
from app.marketdata.synthetic import SyntheticConfig, SyntheticTape
from tests.fakes.alpaca.tape import TapePump
from tests.fakes.alpaca.venue import FakeAlpaca

SESSION_DAY = "2026-11-20"


@dataclass(frozen=True, slots=True)
class Rehearsal:
    """A market clock reading the session's open `startup_s` after now, at `speed`, and the
    tape of `symbols` synthetic small caps played on it."""

    anchor_ns: int
    open_ns: int
    speed: float
    clock: LiveClock
    tape: SyntheticTape

    @classmethod
    def start(
        cls, *, speed: float = 30.0, symbols: int = 40, seed: int = 3, startup_s: float = 8
    ) -> Rehearsal:
        anchor_ns = time.time_ns() + int(startup_s * 1_000_000_000)
        open_ns = session_open_ns(datetime.date.fromisoformat(SESSION_DAY))
        return cls(
            anchor_ns=anchor_ns,
            open_ns=open_ns,
            speed=speed,
            clock=LiveClock(open_ns, speed, anchor_wall_ns=anchor_ns),
            tape=SyntheticTape(SyntheticConfig(seed=seed, symbols=symbols), start_ns=open_ns),
        )

    def environment(self, venue: FakeAlpaca, data_dir: Path, **extra: str) -> dict[str, str]:
        """`extra` adds TRADER_* variables (or overrides these)."""
        config = venue.config()
        return {
            **os.environ,
            "TRADER_DATA_DIR": str(data_dir),
            "TRADER_VENUE": "alpaca",
            "TRADER_FEED": "venue",
            "TRADER_SYMBOLS": ",".join(self.tape.symbols),
            "TRADER_ALPACA__KEY_ID": venue.key_id,
            "TRADER_ALPACA__SECRET_KEY": venue.secret_key,
            "TRADER_ALPACA__BASE_URL": config.base_url,
            "TRADER_ALPACA__DATA_URL": config.data_url,
            "TRADER_ALPACA__TRADE_STREAM_URL": config.trade_stream_url,
            "TRADER_ALPACA__DATA_STREAM_URL": config.data_stream_url,
            "TRADER_SYNTHETIC__SESSION_DATE": SESSION_DAY,
            "TRADER_SYNTHETIC__SPEED": str(self.speed),
            "TRADER_SYNTHETIC__ANCHOR_NS": str(self.anchor_ns),
            "TRADER_LOG_LEVEL": "warning",
            **extra,
        }


@contextlib.asynccontextmanager
async def market(pump: TapePump) -> AsyncIterator[TapePump]:
    """The tape plays while the block runs."""
    task = asyncio.create_task(pump.run())
    try:
        yield pump
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def spawn(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    """`trader ARGS` as a child process (stdout and stderr piped)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli.main",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def trader(env: dict[str, str], *args: str, timeout_s: float = 180) -> tuple[int, str, str]:
    """Run `trader ARGS` to its end: exit code, stdout, stderr."""
    process = await spawn(env, *args)
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout_s)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def last_json(text: str) -> Any:
    return json.loads(text.strip().splitlines()[-1])


def ledger_rows(data_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(data_dir / "trader.db") as db:
        return db.execute(sql).fetchall()
