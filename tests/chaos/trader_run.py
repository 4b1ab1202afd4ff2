"""A `trader run` against a fake venue that a chaos test steers while it runs: the process is
started in the background, its output read as it comes (so a chatty log never fills the pipe
and stalls it), and stopped with SIGTERM as an operator stops it, so it drains before it exits.
Its log is JSON (TRADER_LOG_FORMAT=json), one event per line, read back after the run."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fakes.alpaca.trader_process import Rehearsal, ledger_rows, spawn, trader

RUN_BOUND_S = 120
STOP_TIMEOUT_S = 30

PROBE_RULE = "chaos_probe"


@dataclass
class RunningTrader:
    process: asyncio.subprocess.Process
    output: asyncio.Future[tuple[bytes, bytes]]
    code: int | None = None
    out: str = ""
    err: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)

    async def stop(self) -> None:
        """SIGTERM, then wait for the drain; the log is parsed into `events`."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(asyncio.shield(self.output), STOP_TIMEOUT_S)
        self.code, self.out, self.err = self.process.returncode, out.decode(), err.decode()
        self.events = log_events(self.err)

    def named(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == event]


@contextlib.asynccontextmanager
async def running_trader(env: dict[str, str]) -> AsyncIterator[RunningTrader]:
    """`trader run` until the block calls `stop()`; killed if the block ends otherwise."""
    process = await spawn(env, "run", "--json", "--duration", str(RUN_BOUND_S))
    run = RunningTrader(process, asyncio.ensure_future(process.communicate()))
    try:
        yield run
    finally:
        if process.returncode is None:
            process.kill()
        await asyncio.gather(run.output, return_exceptions=True)


def log_events(text: str) -> list[dict[str, Any]]:
    """The JSON log lines, in the order the process wrote them; other lines are left out."""
    events = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            if isinstance(event, dict) and "event" in event:
                events.append(event)
    return events


async def add_probe_rule(
    env: dict[str, str], data_dir: Path, *, interval_s: int, hold_s: int
) -> None:
    """A strategy that enters every symbol it does not hold at each bar of `interval_s` and
    holds at most `hold_s` (market seconds): a steady flow of orders to put faults under."""
    rule = {
        "name": PROBE_RULE,
        "conditions": [{"left": "close", "op": ">", "right": 0}],
        "interval_s": interval_s,
        "exit": {"stop_pct": 1.0, "targets": [{"pct": 1.0, "fraction": 1.0}], "max_hold_s": hold_s},
    }
    path = data_dir / "probe_rule.json"
    path.write_text(json.dumps(rule))
    code, _, err = await trader(env, "strategies", "add-rule", str(path))
    assert code == 0, err[-4000:]


async def rows(data_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    """Ledger rows read on a thread: SQLite may wait on the trader's writes, the fake may not."""
    return await asyncio.to_thread(ledger_rows, data_dir, sql)


def wall_ns(rehearsal: Rehearsal, market_ns: int) -> int:
    """The wall-clock time at which the rehearsal's market clock read `market_ns`."""
    return rehearsal.anchor_ns + int((market_ns - rehearsal.open_ns) / rehearsal.speed)
