"""The pipeline bench's extra load and what it finds afterwards: L1's burst, played by a second
router process (bench/burst_router.py), and L3's signals, published to the executor at a fixed
rate and traced through the ledger (every decision, every order by its dedup key)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import secrets
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from statistics import quantiles

from pipeline_probe import REDIS, quantile
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.bus.codec import encode
from app.bus.connection import RedisConfig, RedisConnectionManager
from app.bus.redis_bus import RedisBus
from app.bus.redis_bus_config import RedisBusConfig
from app.bus.topics import SIGNALS
from app.domain.signal import Side, Signal, SignalKind
from app.persistence.engine import make_engine
from app.persistence.migrate import upgrade
from app.ports.clock import Clock
from app.settings import RiskSettings

L3_STRATEGY = "bench_l3"
L3_ORDER_VALUE = 500  # about: the default sizing of an entry at $10 with its stop at $0.10
L3_SYMBOLS = 1_000  # rotated: a symbol comes back after 100 s, its last entry long cancelled
Sample = tuple[float, dict[str, int]]  # seconds since the start, max lag per consumer group


@dataclass(frozen=True)
class BurstSpec:
    """`RATE:SECONDS[@START]`: the total offered rate during the burst (the second router adds
    what the base rate lacks), for SECONDS, from START s into the measurement (default 30)."""

    rate: float
    seconds: float
    start: float = 30.0

    @classmethod
    def parse(cls, spec: str) -> BurstSpec:
        match = re.fullmatch(r"(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)(?:@(\d+(?:\.\d+)?))?", spec)
        if match is None:
            raise ValueError(f"burst {spec!r} is not RATE:SECONDS[@START]")
        rate, seconds, start = match.groups()
        return cls(float(rate), float(seconds), float(start) if start else 30.0)


@dataclass
class BurstResult:
    offered_ticks_per_s: float  # both routers, over the burst
    burst_router_ticks_per_s: float
    max_lag_entries: dict[str, int]  # per consumer group, from the burst's start
    drain_s: dict[str, float | None]  # burst end -> lag 0 per group; None: not seen draining


class BurstRouter:
    """The second router process: spawned with the others (its imports take seconds), it plays
    its tape only between `go` and the burst's end."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def spawn(cls, env: dict[str, str], *, symbols: int, seconds: float) -> BurstRouter:
        script = Path(__file__).with_name("burst_router.py")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(script),
            f"--symbols={symbols}",
            f"--seconds={seconds}",
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def ready(self, *, timeout_s: float) -> None:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout_s)
        if line.strip() != b"ready":
            raise RuntimeError(f"burst router did not start: {line!r}")

    async def play(self) -> tuple[int, float]:
        """Go, and wait for the burst to end: ticks published and the seconds it ran."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(b"go\n")
        await self.process.stdin.drain()
        report = json.loads(await self.process.stdout.readline())
        return int(report["published"]), float(report["elapsed_s"])


def drained_at(samples: list[Sample], group: str, *, after: float) -> float | None:
    """Seconds from `after` to the first sample at or past it where `group` lags by 0."""
    for at, lags in samples:
        if at >= after and lags.get(group, 0) == 0:
            return round(at - after, 2)
    return None


def burst_result(
    samples: list[Sample], *, start: float, end: float, offered: float, burst_published: int
) -> BurstResult:
    during = [lags for at, lags in samples if at >= start]
    groups = sorted({group for lags in during for group in lags})
    return BurstResult(
        offered_ticks_per_s=round(offered),
        burst_router_ticks_per_s=round(burst_published / (end - start)),
        max_lag_entries={g: max(lags.get(g, 0) for lags in during) for g in groups},
        drain_s={g: drained_at(samples, g, after=end) for g in groups},
    )


POSTGRES_ADMIN = os.environ.get(
    "TRADER_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


@asynccontextmanager
async def ledger_database(kind: str, data: Path) -> AsyncIterator[str]:
    """The migrated ledger of one run: a SQLite file in its directory, or a throw-away
    PostgreSQL database created on the server at TRADER_BENCH_POSTGRES_URL and dropped after."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{(data / 'trader.db').resolve()}"
        await upgrade(url)
        yield url
        return
    name = f"trader_bench_{secrets.token_hex(6)}"
    admin = create_async_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as db:
            await db.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(POSTGRES_ADMIN).set(database=name).render_as_string(False)
            await upgrade(url)
            yield url
        finally:
            async with admin.connect() as db:
                await db.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


def executor_env(speed: float) -> dict[str, str]:
    """Room beside the strategies for L3's resting entries (each about $500; at most about 100
    working at once, as the executor cancels each after its TTL), so they become orders rather
    than cap rejections; every other cap stays at its default, so the strategies trade as they
    would. The stale-price limit stays 10 s of wall time on the sped-up market clock."""
    risk = RiskSettings()
    return {
        "TRADER_RISK__MAX_OPEN_POSITIONS": str(risk.max_open_positions + 100),
        "TRADER_RISK__MAX_EXPOSURE": str(risk.max_exposure + 100 * L3_ORDER_VALUE),
        "TRADER_RISK__STALE_SIGNAL_S": f"{risk.stale_signal_s * speed:.0f}",
    }


class SignalLoad:
    """Entry signals at a fixed rate on symbols no tape prints (L3S000..L3S999): each becomes a
    resting order that the executor cancels after its TTL, so none fills and the load never
    touches P&L or the strategies' positions. Dedup keys are unique per run; every
    `replay_every`-th signal is published a second time, as a redelivery would, so the
    duplicate check has something to catch."""

    def __init__(self, *, prefix: str, market: Clock, rate: float, replay_every: int = 10) -> None:
        self._prefix = prefix
        self._market = market
        self._rate = rate
        self._replay_every = replay_every
        self.published: dict[str, int] = {}  # dedup key -> wall ns at (first) publish
        self.replayed = 0

    async def run(self, duration_s: float) -> None:
        connection = RedisConnectionManager(
            RedisConfig(url=REDIS),
            rng=random.Random(),
        )
        bus = RedisBus(connection, config=RedisBusConfig(prefix=f"{self._prefix}:"))
        await bus.start()
        started = time.perf_counter()
        try:
            for n in range(int(duration_s * self._rate)):
                await asyncio.sleep(max(0.0, started + n / self._rate - time.perf_counter()))
                key = f"{L3_STRATEGY}-{self._prefix}-{n}"
                now = self._market.now_ns()
                signal = Signal(
                    strategy=L3_STRATEGY,
                    symbol=f"L3S{n % L3_SYMBOLS:03d}",
                    side=Side.BUY,
                    kind=SignalKind.ENTRY,
                    ts_ns=now,
                    price=10.0,
                    stop_price=0.1,
                    dedup_key=key,
                    price_ts_ns=now,
                    reason="bench L3 load",
                )
                self.published[key] = time.time_ns()
                await bus.publish(SIGNALS, encode(signal))
                if n % self._replay_every == 0:
                    await bus.publish(SIGNALS, encode(signal))
                    self.replayed += 1
        finally:
            await bus.close()


@dataclass
class L3Result:
    signals_published: int  # distinct; `replayed` of them were published twice
    replayed: int
    decided: int  # L3 signals with a recorded decision
    approved: int
    rejections: dict[str, int]  # reason (numbers elided) -> count
    orders_submitted: int  # every order the executor submitted (the strategies' too)
    submit_errors: int
    signal_to_submit_p50_ms: float  # histogram: executor takes the batch -> broker answers
    signal_to_submit_p99_ms: float
    # with a burst: p99 outside it, and from its start until its lag had drained
    signal_to_submit_steady_p99_ms: float | None
    signal_to_submit_burst_p99_ms: float | None
    publish_to_order_p50_ms: float  # exact, L3 orders: bench publish -> executor decision
    publish_to_order_p99_ms: float
    max_signal_lag_entries: int
    orders_checked: int  # every order in the ledger, strategies' and L3's
    duplicates: int  # dedup keys with more than one order


async def _ledger_rows(
    url: str,
) -> tuple[list[tuple[bool, str]], list[tuple[str, int]], int, int]:
    """L3's decisions and orders, the count of every order, and of dedup keys ordered twice."""
    engine = make_engine(url)
    try:
        async with engine.connect() as db:
            decisions = await db.execute(
                text("SELECT decision_approved, decision_reason FROM signals WHERE strategy = :s"),
                {"s": L3_STRATEGY},
            )
            orders = await db.execute(
                text("SELECT signal_key, created_ns FROM orders WHERE strategy = :s"),
                {"s": L3_STRATEGY},
            )
            checked = await db.execute(text("SELECT COUNT(*) FROM orders"))
            twice = await db.execute(
                text(
                    "SELECT COUNT(*) FROM (SELECT signal_key FROM orders "
                    "GROUP BY signal_key HAVING COUNT(*) > 1) AS twice"
                )
            )
            return (
                [(bool(ok), str(reason)) for ok, reason in decisions],
                [(str(key), int(created)) for key, created in orders],
                int(checked.scalar_one()),
                int(twice.scalar_one()),
            )
    finally:
        await engine.dispose()


async def l3_result(
    load: SignalLoad,
    *,
    ledger: str,
    run_delta: dict[str, float],
    split: tuple[dict[str, float], dict[str, float]] | None,
    samples: list[Sample],
    wall_ns: Callable[[int], float],
) -> L3Result:
    """What the ledger and the executor's metrics say about the run's signals. `split` is the
    run's metrics outside a burst and within it; `wall_ns` turns the executor's market-clock
    stamps back into wall time."""
    decisions, orders, checked, duplicates = await _ledger_rows(ledger)
    reasons = Counter(re.sub(r"\d[\d.,]*", "#", reason) for ok, reason in decisions if not ok)
    exact = sorted(
        (wall_ns(created) - load.published[key]) / 1e6
        for key, created in orders
        if key in load.published
    ) or [0.0]
    cut = quantiles(exact, n=100, method="inclusive") if len(exact) > 1 else exact * 99
    submit = "trader_execution_signal_to_submit_seconds"
    errors = "trader_execution_submit_errors_total{"
    return L3Result(
        signals_published=len(load.published),
        replayed=load.replayed,
        decided=len(decisions),
        approved=sum(1 for ok, _ in decisions if ok),
        rejections=dict(reasons.most_common(3)),
        orders_submitted=int(run_delta.get("trader_execution_orders_submitted_total", 0)),
        submit_errors=int(sum(v for k, v in run_delta.items() if k.startswith(errors))),
        signal_to_submit_p50_ms=quantile(run_delta, submit, 0.5),
        signal_to_submit_p99_ms=quantile(run_delta, submit, 0.99),
        signal_to_submit_steady_p99_ms=None if split is None else quantile(split[0], submit, 0.99),
        signal_to_submit_burst_p99_ms=None if split is None else quantile(split[1], submit, 0.99),
        publish_to_order_p50_ms=round(cut[49], 2),
        publish_to_order_p99_ms=round(cut[98], 2),
        max_signal_lag_entries=max((lags.get("execution", 0) for _, lags in samples), default=0),
        orders_checked=checked,
        duplicates=duplicates,
    )
