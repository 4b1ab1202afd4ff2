"""One contract for every RiskStateStore backend: SQLite (a file per test) and PostgreSQL (a
database per test on the shared server, marked `postgres`; unreachable fails, never skips)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy.engine import Connection

from app.persistence.engine import make_engine
from app.persistence.errors import SchemaNotAtHeadError
from app.persistence.migrate import alembic_config, upgrade
from app.persistence.risk_state import SqlRiskStateStore
from app.ports.risk_state import (
    GLOBAL,
    AuditEntry,
    BreakerState,
    DailyCounters,
    Halt,
    HaltKind,
    RiskStateStore,
    StrategyState,
)

# asyncpg reads NUMERIC 10000 back as 1E+4; zeros keep their scale; the extremes of the range.
TRICKY_AMOUNTS = [
    "10000", "120000", "0E-10", "2.50", "1000000000000.0000000000", "-0.0000000001",
    "-999999999999.9999999999", "0", "100", "0.10", "3906250000", "-7E-10",
]  # fmt: skip


@pytest.fixture
async def url(empty_db: str) -> str:
    await upgrade(empty_db)
    return empty_db


@pytest.fixture
async def store(url: str) -> AsyncIterator[RiskStateStore]:
    sql_store = SqlRiskStateStore(url)
    await sql_store.start()
    yield sql_store
    await sql_store.close()


def a_halt(
    scope: str = "breakout", kind: HaltKind = HaltKind.KILL_SWITCH, *, since_ns: int = 1_000
) -> Halt:
    return Halt(scope=scope, kind=kind, reason=f"{kind} test", since_ns=since_ns, actor="alice")


async def test_start_refuses_an_unmigrated_database(empty_db: str) -> None:
    with pytest.raises(SchemaNotAtHeadError, match="run `trader db upgrade`"):
        await SqlRiskStateStore(empty_db).start()


async def test_start_refuses_a_database_behind_head(empty_db: str) -> None:
    def upgrade_to_lease(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")

    engine = make_engine(empty_db)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(upgrade_to_lease)
    finally:
        await engine.dispose()
    with pytest.raises(SchemaNotAtHeadError, match="is at revision 0002"):
        await SqlRiskStateStore(empty_db).start()


async def test_constructor_does_no_io_and_calls_before_start_are_refused() -> None:
    store = SqlRiskStateStore("postgresql+asyncpg://nobody@127.0.0.1:1/nothing")
    with pytest.raises(RuntimeError, match="not started"):
        await store.halts()
    await store.close()


async def test_a_fresh_store_is_empty(store: RiskStateStore) -> None:
    assert await store.halts() == []
    assert await store.strategy_states() == []
    assert await store.daily_counters("2026-03-09") == []
    assert await store.breaker("broker") is None
    assert await store.audit_log(10) == []


async def test_halts_of_every_kind_read_back_exactly(store: RiskStateStore) -> None:
    written = [
        a_halt(GLOBAL if i % 2 else "breakout", kind, since_ns=1_700_000_000_000_000_000 + i)
        for i, kind in enumerate(HaltKind)
    ]
    for halt in written:
        assert await store.halt(halt)
    assert await store.halts() == written
    assert all(type(halt.kind) is HaltKind for halt in await store.halts())


async def test_strategy_states_read_back_exactly(store: RiskStateStore) -> None:
    written = [
        StrategyState(
            strategy=f"s{i:02}",
            cumulative_pnl=Decimal(amount),
            peak_pnl=Decimal(TRICKY_AMOUNTS[-1 - i]),
            loss_streak=i,
            cooldown_until_ns=9_223_372_036_854_775_807 - i,
        )
        for i, amount in enumerate(TRICKY_AMOUNTS)
    ]
    for state in written:
        await store.save_strategy_state(state)
    assert repr(await store.strategy_states()) == repr(written)


async def test_daily_counters_read_back_exactly_for_their_day_only(
    store: RiskStateStore,
) -> None:
    day, other = "2026-03-09", "2026-03-10"
    written = [
        DailyCounters(day, f"s{i:02}", Decimal(amount), trades=i, day_trades=i // 2)
        for i, amount in enumerate(TRICKY_AMOUNTS)
    ]
    for counters in [*written, DailyCounters(other, "s00", Decimal("1.23"), 1, 1)]:
        await store.save_daily_counters(counters)
    assert repr(await store.daily_counters(day)) == repr(written)
    assert await store.daily_counters(other) == [DailyCounters(other, "s00", Decimal("1.23"), 1, 1)]
    assert await store.daily_counters("2026-03-11") == []


async def test_breakers_and_audit_entries_read_back_exactly(store: RiskStateStore) -> None:
    broker = BreakerState("broker", state="half_open", failures=7, opened_ns=1_700_000_000 * 10**9)
    await store.save_breaker(broker)
    await store.save_breaker(BreakerState("drawdown"))
    assert await store.breaker("broker") == broker
    assert await store.breaker("drawdown") == BreakerState("drawdown")
    assert await store.breaker("missing") is None

    entry = AuditEntry(ts_ns=2**62, actor="bob@host", action="note", scope="x", detail="ünïcode ✓")
    await store.audit(entry)
    assert await store.audit_log(1) == [entry]


async def test_saves_are_upserts_and_the_last_write_wins(store: RiskStateStore) -> None:
    await store.save_strategy_state(StrategyState("breakout", Decimal("-5.00"), loss_streak=1))
    latest = StrategyState("breakout", Decimal("12.50"), Decimal("20.00"), 0, 5_000)
    await store.save_strategy_state(latest)
    assert await store.strategy_states() == [latest]

    await store.save_daily_counters(DailyCounters("2026-03-09", "breakout", trades=1))
    counters = DailyCounters("2026-03-09", "breakout", Decimal("-3.10"), trades=2, day_trades=1)
    await store.save_daily_counters(counters)
    assert await store.daily_counters("2026-03-09") == [counters]

    await store.save_breaker(BreakerState("broker", "open", 5, 1_000))
    await store.save_breaker(BreakerState("broker", "closed", 0, 0))
    assert await store.breaker("broker") == BreakerState("broker")


async def test_a_halt_is_stored_and_audited_once(store: RiskStateStore) -> None:
    first = a_halt()
    assert await store.halt(first)
    again = Halt("breakout", HaltKind.KILL_SWITCH, reason="again", since_ns=2_000, actor="bob")
    assert not await store.halt(again)
    assert await store.halts() == [first]
    assert await store.audit_log(10) == [
        AuditEntry(1_000, "alice", "halt", "breakout", "kill_switch: kill_switch test")
    ]

    drawdown = a_halt(kind=HaltKind.DRAWDOWN, since_ns=3_000)
    assert await store.halt(drawdown)
    assert await store.halts() == [first, drawdown]


async def test_concurrent_halts_of_one_scope_and_kind_store_one(url: str) -> None:
    stores = [SqlRiskStateStore(url) for _ in range(5)]
    for store in stores:
        await store.start()
    try:
        won = await asyncio.gather(
            *(store.halt(a_halt(since_ns=i)) for i, store in enumerate(stores))
        )
        assert sum(won) == 1
        assert len(await stores[0].halts()) == 1
        assert len(await stores[0].audit_log(10)) == 1
    finally:
        for store in stores:
            await store.close()


async def test_resume_clears_only_its_scope_and_is_audited(store: RiskStateStore) -> None:
    kill = a_halt(GLOBAL, HaltKind.KILL_SWITCH, since_ns=1_000)
    drawdown = a_halt(GLOBAL, HaltKind.DRAWDOWN, since_ns=2_000)
    strategy = a_halt("breakout", HaltKind.DAILY_LOSS, since_ns=3_000)
    for halt in (kill, drawdown, strategy):
        await store.halt(halt)

    cleared = await store.resume(GLOBAL, actor="carol@desk", reason="feed fixed", now_ns=9_000)

    assert cleared == [kill, drawdown]
    assert await store.halts() == [strategy]
    latest = (await store.audit_log(1))[0]
    assert (latest.ts_ns, latest.actor, latest.action, latest.scope) == (
        9_000,
        "carol@desk",
        "resume",
        GLOBAL,
    )
    assert "kill_switch" in latest.detail
    assert "drawdown" in latest.detail
    assert "daily_loss" not in latest.detail
    assert latest.detail.endswith("reason: feed fixed")


async def test_resuming_nothing_returns_nothing_and_is_audited(store: RiskStateStore) -> None:
    assert await store.resume("breakout", actor="dave", reason="just in case", now_ns=5) == []
    assert await store.audit_log(10) == [
        AuditEntry(5, "dave", "resume", "breakout", "nothing was halted; reason: just in case")
    ]


@pytest.mark.parametrize(("actor", "reason"), [("dave", " "), ("", "because")])
async def test_a_resume_without_actor_or_reason_is_refused_and_changes_nothing(
    store: RiskStateStore, actor: str, reason: str
) -> None:
    await store.halt(a_halt())
    with pytest.raises(ValueError, match="actor and a reason"):
        await store.resume("breakout", actor=actor, reason=reason, now_ns=5_000)
    assert await store.halts() == [a_halt()]
    assert [entry.action for entry in await store.audit_log(10)] == ["halt"]


async def test_ten_concurrent_claimers_reset_a_day_exactly_once(url: str) -> None:
    stores = [SqlRiskStateStore(url) for _ in range(10)]
    for store in stores:
        await store.start()
    try:
        won = await asyncio.gather(
            *(
                store.claim_daily_reset("2026-03-09", actor=f"host-{i}", now_ns=1_000 + i)
                for i, store in enumerate(stores)
            )
        )
        assert sum(won) == 1
        winner = won.index(True)
        assert await stores[0].audit_log(10) == [
            AuditEntry(
                1_000 + winner, f"host-{winner}", "daily_reset", GLOBAL, "trading day 2026-03-09"
            )
        ]
        assert not await stores[3].claim_daily_reset("2026-03-09", actor="late", now_ns=9_000)
        assert await stores[3].claim_daily_reset("2026-03-10", actor="late", now_ns=9_000)
    finally:
        for store in stores:
            await store.close()


@pytest.mark.parametrize("day", ["2026-3-9", "20260309", "2026-03-09T00:00", "monday"])
async def test_a_trading_day_not_spelled_yyyy_mm_dd_is_refused(
    store: RiskStateStore, day: str
) -> None:
    await store.claim_daily_reset("2026-03-09", actor="a", now_ns=1)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        await store.claim_daily_reset(day, actor="b", now_ns=2)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        await store.save_daily_counters(DailyCounters(day, "breakout"))
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        await store.daily_counters(day)
    assert len(await store.audit_log(10)) == 1


async def test_audit_log_is_newest_first_and_limited(store: RiskStateStore) -> None:
    entries = [AuditEntry(ts, "eve", f"a{ts}", "s", "d") for ts in (30, 10, 20)]
    for entry in entries:
        await store.audit(entry)
    tie = AuditEntry(30, "eve", "written-later", "s", "d")
    await store.audit(tie)

    assert [e.action for e in await store.audit_log(10)] == ["written-later", "a30", "a20", "a10"]
    assert await store.audit_log(2) == [tie, entries[0]]
