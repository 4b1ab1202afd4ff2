"""Risk-state rows to port types and back. Kinds are stored by value, money as exact Decimal."""

from __future__ import annotations

from sqlalchemy.engine import RowMapping

from app.persistence.codecs import Row
from app.ports.risk_state import (
    AuditEntry,
    BreakerState,
    DailyCounters,
    Halt,
    HaltKind,
    StrategyState,
)


def halt_row(halt: Halt) -> Row:
    return {
        "scope": halt.scope,
        "kind": halt.kind.value,
        "reason": halt.reason,
        "since_ns": halt.since_ns,
        "actor": halt.actor,
    }


def halt_from_row(row: RowMapping) -> Halt:
    return Halt(
        scope=row["scope"],
        kind=HaltKind(row["kind"]),
        reason=row["reason"],
        since_ns=row["since_ns"],
        actor=row["actor"],
    )


def strategy_state_row(state: StrategyState) -> Row:
    return {
        "strategy": state.strategy,
        "cumulative_pnl": state.cumulative_pnl,
        "peak_pnl": state.peak_pnl,
        "loss_streak": state.loss_streak,
        "cooldown_until_ns": state.cooldown_until_ns,
    }


def strategy_state_from_row(row: RowMapping) -> StrategyState:
    return StrategyState(
        strategy=row["strategy"],
        cumulative_pnl=row["cumulative_pnl"],
        peak_pnl=row["peak_pnl"],
        loss_streak=row["loss_streak"],
        cooldown_until_ns=row["cooldown_until_ns"],
    )


def daily_counters_row(counters: DailyCounters) -> Row:
    return {
        "trading_day": counters.trading_day,
        "strategy": counters.strategy,
        "realized_pnl": counters.realized_pnl,
        "trades": counters.trades,
        "day_trades": counters.day_trades,
    }


def daily_counters_from_row(row: RowMapping) -> DailyCounters:
    return DailyCounters(
        trading_day=row["trading_day"],
        strategy=row["strategy"],
        realized_pnl=row["realized_pnl"],
        trades=row["trades"],
        day_trades=row["day_trades"],
    )


def breaker_row(state: BreakerState) -> Row:
    return {
        "name": state.name,
        "state": state.state,
        "failures": state.failures,
        "opened_ns": state.opened_ns,
    }


def breaker_from_row(row: RowMapping) -> BreakerState:
    return BreakerState(
        name=row["name"],
        state=row["state"],
        failures=row["failures"],
        opened_ns=row["opened_ns"],
    )


def audit_row(entry: AuditEntry) -> Row:
    return {
        "ts_ns": entry.ts_ns,
        "actor": entry.actor,
        "action": entry.action,
        "scope": entry.scope,
        "detail": entry.detail,
    }


def audit_from_row(row: RowMapping) -> AuditEntry:
    return AuditEntry(
        ts_ns=row["ts_ns"],
        actor=row["actor"],
        action=row["action"],
        scope=row["scope"],
        detail=row["detail"],
    )
