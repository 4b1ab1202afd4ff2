"""Risk state that must survive any crash or restart: halts, breakers, counters, the audit trail.

It lives in the SQL database, never only in Redis, so flushing Redis cannot re-arm a halted
strategy (S11). Only an explicit, audited resume clears a halt; the daily reset never does.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Protocol

import msgspec

GLOBAL = "global"


class HaltKind(enum.StrEnum):
    KILL_SWITCH = "kill_switch"  # engaged by a person
    DRAWDOWN = "drawdown"  # a drawdown circuit breaker tripped
    DAILY_LOSS = "daily_loss"  # the daily loss limit was hit
    UNEXPLAINED = "unexplained"  # reconciliation found a difference it could not explain


class Halt(msgspec.Struct, frozen=True):
    """No new entries in `scope` (GLOBAL or a strategy name); exits stay allowed."""

    scope: str
    kind: HaltKind
    reason: str
    since_ns: int
    actor: str


class StrategyState(msgspec.Struct, frozen=True):
    """What survives across days for one strategy: its P&L high-water mark and loss streak."""

    strategy: str
    cumulative_pnl: Decimal = Decimal(0)
    peak_pnl: Decimal = Decimal(0)
    loss_streak: int = 0
    cooldown_until_ns: int = 0


class DailyCounters(msgspec.Struct, frozen=True):
    """One strategy's numbers for one New York trading day; each day starts a new row."""

    trading_day: str  # YYYY-MM-DD
    strategy: str
    realized_pnl: Decimal = Decimal(0)
    trades: int = 0
    day_trades: int = 0


class BreakerState(msgspec.Struct, frozen=True):
    """A failure breaker (e.g. the broker's): closed, open since `opened_ns`, or half-open."""

    name: str
    state: str = "closed"  # closed | open | half_open
    failures: int = 0
    opened_ns: int = 0


class AuditEntry(msgspec.Struct, frozen=True):
    ts_ns: int
    actor: str
    action: str
    scope: str
    detail: str


class RiskStateStore(Protocol):
    async def start(self) -> None:
        """Connect; the schema must be at the latest migration."""
        ...

    async def close(self) -> None: ...

    async def halts(self) -> list[Halt]: ...

    async def halt(self, halt: Halt) -> bool:
        """Persist a halt and audit it; False when the same scope and kind is already halted."""
        ...

    async def resume(self, scope: str, *, actor: str, reason: str, now_ns: int) -> list[Halt]:
        """Clear every halt of `scope`, audited with the actor and reason; returns what was
        cleared (empty when nothing was halted, which is audited too)."""
        ...

    async def strategy_states(self) -> list[StrategyState]: ...

    async def save_strategy_state(self, state: StrategyState) -> None: ...

    async def daily_counters(self, trading_day: str) -> list[DailyCounters]: ...

    async def save_daily_counters(self, counters: DailyCounters) -> None: ...

    async def breaker(self, name: str) -> BreakerState | None: ...

    async def save_breaker(self, state: BreakerState) -> None: ...

    async def claim_daily_reset(self, trading_day: str, *, actor: str, now_ns: int) -> bool:
        """True for exactly one caller per trading day, whatever the concurrency or crashes."""
        ...

    async def audit(self, entry: AuditEntry) -> None: ...

    async def audit_log(self, limit: int) -> list[AuditEntry]:
        """Newest first."""
        ...
