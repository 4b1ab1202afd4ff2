"""S11 (a killed strategy stays killed) and S12 (one daily reset per trading day) on the real
PostgreSQL, plus `trader halt / resume / risk` against a SQLite ledger in a temporary data dir.

A restart is every store closed and fresh instances opened: nothing survives in memory.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest
import typer
from typer.testing import CliRunner, Result

from app.cli.risk import halt, resume, risk
from app.domain.calendar import is_trading_day, local_time_ns, next_trading_day
from app.persistence.migrate import upgrade
from app.persistence.risk_state import SqlRiskStateStore
from app.ports.risk_state import (
    GLOBAL,
    AuditEntry,
    BreakerState,
    Halt,
    HaltKind,
    StrategyState,
)
from app.risk.daily_reset import run_daily_reset
from app.settings import Settings

T = TypeVar("T")
MINUTE_NS = 60 * 1_000_000_000
DST_DAYS = ["2026-03-09", "2026-11-02"]  # the Mondays after the clocks change


class SimulatedCrash(Exception):
    pass


class CrashAfterClaim(SqlRiskStateStore):
    """A store whose process dies right after its claim of the day was committed."""

    async def claim_daily_reset(self, trading_day: str, *, actor: str, now_ns: int) -> bool:
        await super().claim_daily_reset(trading_day, actor=actor, now_ns=now_ns)
        raise SimulatedCrash(trading_day)


async def opened(url: str, count: int = 1) -> list[SqlRiskStateStore]:
    stores = [SqlRiskStateStore(url) for _ in range(count)]
    for store in stores:
        await store.start()
    return stores


async def close_all(stores: list[SqlRiskStateStore]) -> None:
    for store in stores:
        await store.close()


async def with_store(url: str, action: Callable[[SqlRiskStateStore], Awaitable[T]]) -> T:
    [store] = await opened(url)
    try:
        return await action(store)
    finally:
        await store.close()


async def resets_audited(store: SqlRiskStateStore) -> list[AuditEntry]:
    return [e for e in await store.audit_log(1_000) if e.action == "daily_reset"]


STRATEGY_HALT = Halt("breakout", HaltKind.KILL_SWITCH, "erratic fills", 1_000, "ops@desk")
DRAWDOWN_HALT = Halt(GLOBAL, HaltKind.DRAWDOWN, "equity -5.00% from peak", 2_000, "drawdown")


@pytest.mark.postgres
async def test_a_killed_strategy_stays_killed_across_a_restart(postgres_url: str) -> None:
    await upgrade(postgres_url)
    executor, api = await opened(postgres_url, 2)
    assert await api.halt(STRATEGY_HALT)
    assert await executor.halt(DRAWDOWN_HALT)
    tripped = BreakerState("drawdown", state="open", failures=1, opened_ns=2_000)
    await executor.save_breaker(tripped)
    state = StrategyState("breakout", Decimal("-812.37"), Decimal("1204.10"), 4, 9_000)
    await executor.save_strategy_state(state)
    await close_all([executor, api])

    executor, api = await opened(postgres_url, 2)
    try:
        assert await executor.halts() == [STRATEGY_HALT, DRAWDOWN_HALT]
        assert await executor.breaker("drawdown") == tripped
        assert repr(await executor.strategy_states()) == repr([state])

        now = local_time_ns(dt.date(2026, 3, 9), 4, 1)
        won = await asyncio.gather(
            run_daily_reset(executor, now_ns=now, actor="executor"),
            run_daily_reset(api, now_ns=now, actor="api"),
        )
        assert sorted(won) == [False, True]
        assert await api.halts() == [STRATEGY_HALT, DRAWDOWN_HALT]
        assert await api.breaker("drawdown") == tripped

        cleared = await api.resume(
            "breakout", actor="admin", reason="fills fixed", now_ns=now + MINUTE_NS
        )
        assert cleared == [STRATEGY_HALT]
        assert await executor.halts() == [DRAWDOWN_HALT]
        resumed = (await executor.audit_log(1))[0]
        assert (resumed.actor, resumed.action, resumed.scope) == ("admin", "resume", "breakout")
        assert "fills fixed" in resumed.detail
    finally:
        await close_all([executor, api])


@pytest.mark.postgres
@pytest.mark.parametrize("day", DST_DAYS)
async def test_the_daily_reset_runs_once_through_concurrency_and_crashes(
    postgres_url: str, day: str
) -> None:
    await upgrade(postgres_url)
    monday = dt.date.fromisoformat(day)
    stores = await opened(postgres_url, 2)
    await stores[0].halt(STRATEGY_HALT)
    await stores[0].save_strategy_state(StrategyState("breakout"))

    now = local_time_ns(monday, 4)
    won = await asyncio.gather(
        *(run_daily_reset(s, now_ns=now, actor=f"host-{i}") for i, s in enumerate(stores))
    )
    assert sorted(won) == [False, True]
    await close_all(stores)  # the crash: every process gone

    [restarted] = await opened(postgres_url)
    try:
        assert not await run_daily_reset(restarted, now_ns=now + 30 * MINUTE_NS, actor="again")
        assert await restarted.daily_counters(day) == []  # a new day starts with no rows
    finally:
        await restarted.close()

    tuesday = next_trading_day(monday).isoformat()
    later = local_time_ns(next_trading_day(monday), 4, 5)
    crashing = CrashAfterClaim(postgres_url)
    await crashing.start()
    try:
        with pytest.raises(SimulatedCrash):
            await run_daily_reset(crashing, now_ns=later, actor="crashed")
    finally:
        await crashing.close()

    [recovered] = await opened(postgres_url)
    try:
        assert not await run_daily_reset(recovered, now_ns=later + MINUTE_NS, actor="recovered")
        assert await recovered.daily_counters(tuesday) == []  # no row reads as zero
        audited = await resets_audited(recovered)
        assert [(e.detail, e.actor) for e in audited] == [
            (f"trading day {tuesday}", "crashed"),
            (f"trading day {day}", audited[1].actor),
        ]
        assert await recovered.halts() == [STRATEGY_HALT]
    finally:
        await recovered.close()


@pytest.mark.postgres
@pytest.mark.parametrize("first", ["2026-03-05", "2026-10-29"])
async def test_skewed_clocks_reset_each_trading_day_once_across_a_dst_change(
    postgres_url: str, first: str
) -> None:
    """Three hosts, clocks off by minutes, poll every hour and every minute around 04:00 New
    York for six days spanning a DST change: one reset per trading day, by the fastest clock,
    never before 04:00 on the clock that made it, and every halt still in force."""
    await upgrade(postgres_url)
    skews = {"slow": -4 * MINUTE_NS, "exact": 0, "fast": 3 * MINUTE_NS}
    hosts = dict(zip(skews, await opened(postgres_url, len(skews)), strict=True))
    await hosts["exact"].halt(STRATEGY_HALT)
    await hosts["exact"].halt(DRAWDOWN_HALT)
    days = [dt.date.fromisoformat(first) + dt.timedelta(days=n) for n in range(6)]
    polls = sorted(
        {local_time_ns(d, hour) for d in days for hour in range(1, 24)}
        | {local_time_ns(d, 3, 50 + m) for d in days for m in range(10)}
        | {local_time_ns(d, 4, m) for d in days for m in range(11)}
        | {local_time_ns(d, 0) for d in days[1:]}  # the slow clock still shows the day before
    )
    try:
        wins = 0
        for true_ns in polls:
            won = await asyncio.gather(
                *(
                    run_daily_reset(store, now_ns=true_ns + skews[name], actor=name)
                    for name, store in hosts.items()
                )
            )
            wins += sum(won)
        trading = [d for d in days if is_trading_day(d)]
        assert len(trading) == 4
        assert wins == len(trading)

        audited = sorted(await resets_audited(hosts["slow"]), key=lambda e: e.ts_ns)
        assert [e.detail for e in audited] == [f"trading day {d.isoformat()}" for d in trading]
        assert {e.actor for e in audited} == {"fast"}
        for entry, trading_day in zip(audited, trading, strict=True):
            assert entry.ts_ns >= local_time_ns(trading_day, 4)
        assert await hosts["slow"].halts() == [STRATEGY_HALT, DRAWDOWN_HALT]
    finally:
        await close_all(list(hosts.values()))


# `trader halt / resume / risk` on a SQLite ledger in a temporary data directory.


@pytest.fixture
def ledger_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TRADER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TRADER_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    url = Settings().ledger_url
    asyncio.run(upgrade(url))
    return url


def cli(args: list[str]) -> Result:
    """Run the commands as `trader` will register them, in a fresh Typer app."""
    app = typer.Typer()
    app.command()(halt)
    app.command()(resume)
    app.command()(risk)
    return CliRunner().invoke(app, args)


def stored_halts(url: str) -> list[Halt]:
    return asyncio.run(with_store(url, lambda store: store.halts()))


def test_halt_without_a_strategy_engages_the_global_kill_switch_once(ledger_url: str) -> None:
    first = cli(["halt", "--reason", "news pending"])
    assert first.exit_code == 0, first.output
    assert "GLOBAL kill switch engaged" in first.stdout
    again = cli(["halt"])
    assert again.exit_code == 0, again.output
    assert "already engaged" in again.stdout
    assert "news pending" in again.stdout

    [engaged] = stored_halts(ledger_url)
    assert (engaged.scope, engaged.kind, engaged.reason) == (
        GLOBAL,
        HaltKind.KILL_SWITCH,
        "news pending",
    )
    assert "@" in engaged.actor


def test_resume_needs_a_reason_clears_one_scope_and_is_audited(ledger_url: str) -> None:
    assert cli(["halt", "--strategy", "breakout", "--reason", "bad fills"]).exit_code == 0
    assert cli(["halt"]).exit_code == 0

    missing = cli(["resume", "--strategy", "breakout"])
    assert missing.exit_code == 2
    assert "--reason" in missing.output
    blank = cli(["resume", "--strategy", "breakout", "--reason", "  "])
    assert blank.exit_code == 2
    assert len(stored_halts(ledger_url)) == 2

    resumed = cli(["resume", "--strategy", "breakout", "--reason", "fills fixed"])
    assert resumed.exit_code == 0, resumed.output
    assert "strategy breakout resumed: cleared kill_switch" in resumed.stdout
    assert "still halted: global (kill_switch)" in resumed.stdout
    assert [h.scope for h in stored_halts(ledger_url)] == [GLOBAL]

    nothing = cli(["resume", "--strategy", "breakout", "--reason", "just in case"])
    assert nothing.exit_code == 1
    assert "nothing to resume" in nothing.stderr

    entries = asyncio.run(with_store(ledger_url, lambda store: store.audit_log(10)))
    assert [(e.action, e.scope) for e in entries[:2]] == [
        ("resume", "breakout"),
        ("resume", "breakout"),
    ]
    assert "just in case" in entries[0].detail
    assert "fills fixed" in entries[1].detail

    assert cli(["resume", "--reason", "all clear"]).exit_code == 0
    assert stored_halts(ledger_url) == []


def test_a_strategy_named_global_is_refused(ledger_url: str) -> None:
    refused = cli(["halt", "--strategy", GLOBAL])
    assert refused.exit_code == 2
    assert stored_halts(ledger_url) == []


def test_risk_shows_halts_states_counters_breakers_and_the_audit_log(ledger_url: str) -> None:
    assert cli(["halt", "--strategy", "breakout", "--reason", "bad fills"]).exit_code == 0

    async def seed(store: SqlRiskStateStore) -> None:
        await store.save_strategy_state(StrategyState("breakout", Decimal("-12.34"), loss_streak=3))
        await store.save_breaker(BreakerState("broker", "open", 5, 1_700_000_000 * 10**9))

    asyncio.run(with_store(ledger_url, seed))
    shown = cli(["risk"])
    assert shown.exit_code == 0, shown.output
    for expected in ("halts", "kill_switch", "bad fills", "-12.34", "broker", "open", "audit log"):
        assert expected in shown.stdout


def test_commands_on_an_unmigrated_database_say_how_to_fix_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TRADER_DATABASE_URL", raising=False)
    failed = cli(["risk"])
    assert failed.exit_code == 2
    assert "trader db upgrade" in failed.stderr
