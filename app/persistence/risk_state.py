"""`SqlRiskStateStore`: halts, breakers, counters and their audit trail in the ledger database.

Every write is one transaction, and a change to a halt or the daily reset is audited inside the
transaction that makes it, so neither exists without the other. Halts and daily-reset markers
are inserted with ON CONFLICT DO NOTHING: of any number of concurrent writers, exactly one wins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Executable, delete, insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from app.persistence.migrate import open_at_head
from app.persistence.risk_codecs import (
    audit_from_row,
    audit_row,
    breaker_from_row,
    breaker_row,
    daily_counters_from_row,
    daily_counters_row,
    halt_from_row,
    halt_row,
    strategy_state_from_row,
    strategy_state_row,
)
from app.persistence.statements import insert_new, upsert
from app.persistence.tables import (
    audit_log,
    breakers,
    daily_counters,
    daily_resets,
    halts,
    strategy_states,
)
from app.ports.risk_state import (
    GLOBAL,
    AuditEntry,
    BreakerState,
    DailyCounters,
    Halt,
    StrategyState,
)

HALT = "halt"
RESUME = "resume"
DAILY_RESET = "daily_reset"


class SqlRiskStateStore:
    """The `RiskStateStore` port over SQLAlchemy. No I/O in the constructor; `start()` connects."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._engine: AsyncEngine | None = None

    async def start(self) -> None:
        """Connect and check the schema is at head; raises SchemaNotAtHeadError otherwise."""
        if self._engine is None:
            self._engine = await open_at_head(self._url, what="risk state")

    async def close(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.dispose()

    async def halts(self) -> list[Halt]:
        """Every halt in force, oldest first."""
        rows = await self._rows(
            select(halts).order_by(halts.c.since_ns, halts.c.scope, halts.c.kind)
        )
        return [halt_from_row(row) for row in rows]

    async def halt(self, halt: Halt) -> bool:
        """Persist and audit a halt; False, writing nothing, when that scope and kind is halted."""
        statement = insert_new(
            self._db.dialect, halts, halt_row(halt), key=[halts.c.scope, halts.c.kind]
        )
        async with self._db.begin() as connection:
            inserted = await connection.execute(statement)
            if inserted.rowcount == 0:
                return False
            entry = AuditEntry(
                ts_ns=halt.since_ns,
                actor=halt.actor,
                action=HALT,
                scope=halt.scope,
                detail=f"{halt.kind.value}: {halt.reason}",
            )
            await connection.execute(insert(audit_log).values(audit_row(entry)))
        return True

    async def resume(self, scope: str, *, actor: str, reason: str, now_ns: int) -> list[Halt]:
        """Clear every halt of `scope` and audit it, even when there was nothing to clear.

        Raises ValueError, writing nothing, when the actor or the reason is blank: a resume
        must say who and why.
        """
        if not actor.strip() or not reason.strip():
            raise ValueError("a resume needs an actor and a reason")
        async with self._db.begin() as connection:
            result = await connection.execute(
                delete(halts).where(halts.c.scope == scope).returning(*halts.c)
            )
            cleared = sorted(
                (halt_from_row(row) for row in result.mappings().all()),
                key=lambda halt: (halt.since_ns, halt.kind.value),
            )
            entry = AuditEntry(
                ts_ns=now_ns,
                actor=actor,
                action=RESUME,
                scope=scope,
                detail=_resume_detail(cleared, reason),
            )
            await connection.execute(insert(audit_log).values(audit_row(entry)))
        return cleared

    async def strategy_states(self) -> list[StrategyState]:
        rows = await self._rows(select(strategy_states).order_by(strategy_states.c.strategy))
        return [strategy_state_from_row(row) for row in rows]

    async def save_strategy_state(self, state: StrategyState) -> None:
        statement = upsert(
            self._db.dialect,
            strategy_states,
            strategy_state_row(state),
            key=[strategy_states.c.strategy],
        )
        async with self._db.begin() as connection:
            await connection.execute(statement)

    async def daily_counters(self, trading_day: str) -> list[DailyCounters]:
        """The day's counters per strategy, by strategy name; a strategy without a row has
        not traded that day (its counters are zero)."""
        rows = await self._rows(
            select(daily_counters)
            .where(daily_counters.c.trading_day == _day_key(trading_day))
            .order_by(daily_counters.c.strategy)
        )
        return [daily_counters_from_row(row) for row in rows]

    async def save_daily_counters(self, counters: DailyCounters) -> None:
        _day_key(counters.trading_day)
        statement = upsert(
            self._db.dialect,
            daily_counters,
            daily_counters_row(counters),
            key=[daily_counters.c.trading_day, daily_counters.c.strategy],
        )
        async with self._db.begin() as connection:
            await connection.execute(statement)

    async def breaker(self, name: str) -> BreakerState | None:
        rows = await self._rows(select(breakers).where(breakers.c.name == name))
        return breaker_from_row(rows[0]) if rows else None

    async def breakers(self) -> list[BreakerState]:
        """Every breaker ever saved, by name (beyond the port: for `trader risk`)."""
        rows = await self._rows(select(breakers).order_by(breakers.c.name))
        return [breaker_from_row(row) for row in rows]

    async def save_breaker(self, state: BreakerState) -> None:
        statement = upsert(self._db.dialect, breakers, breaker_row(state), key=[breakers.c.name])
        async with self._db.begin() as connection:
            await connection.execute(statement)

    async def claim_daily_reset(self, trading_day: str, *, actor: str, now_ns: int) -> bool:
        """True for the one caller whose marker for the day was inserted, audited with it."""
        statement = insert_new(
            self._db.dialect,
            daily_resets,
            {"trading_day": _day_key(trading_day), "actor": actor, "ran_ns": now_ns},
            key=[daily_resets.c.trading_day],
        )
        async with self._db.begin() as connection:
            claimed = await connection.execute(statement)
            if claimed.rowcount == 0:
                return False
            entry = AuditEntry(
                ts_ns=now_ns,
                actor=actor,
                action=DAILY_RESET,
                scope=GLOBAL,
                detail=f"trading day {trading_day}",
            )
            await connection.execute(insert(audit_log).values(audit_row(entry)))
        return True

    async def audit(self, entry: AuditEntry) -> None:
        async with self._db.begin() as connection:
            await connection.execute(insert(audit_log).values(audit_row(entry)))

    async def audit_log(self, limit: int) -> list[AuditEntry]:
        """The `limit` newest entries, newest first (ties in time: the later write first)."""
        rows = await self._rows(
            select(audit_log).order_by(audit_log.c.ts_ns.desc(), audit_log.c.id.desc()).limit(limit)
        )
        return [audit_from_row(row) for row in rows]

    @property
    def _db(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("SqlRiskStateStore is not started: await start() first")
        return self._engine

    async def _rows(self, statement: Executable) -> Sequence[RowMapping]:
        async with self._db.connect() as connection:
            result = await connection.execute(statement)
            return result.mappings().all()


def _resume_detail(cleared: list[Halt], reason: str) -> str:
    if not cleared:
        return f"nothing was halted; reason: {reason}"
    kinds = ", ".join(f"{halt.kind.value} (by {halt.actor}: {halt.reason})" for halt in cleared)
    return f"cleared {kinds}; reason: {reason}"


def _day_key(trading_day: str) -> str:
    """The day as stored: only YYYY-MM-DD, so one day can never be claimed under two spellings."""
    try:
        canonical = dt.date.fromisoformat(trading_day).isoformat()
    except ValueError:
        canonical = None
    if canonical != trading_day:
        raise ValueError(f"trading day must be YYYY-MM-DD, got {trading_day!r}")
    return trading_day
