"""`trader halt`, `trader resume`, `trader risk`: the persisted risk state from the command line.

Halting and resuming are audited with the operator (OS user @ host) and a reason. Without
--strategy, `halt` engages the global kill switch and `resume` releases it; a strategy's own
halts are released by naming it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from app.domain.calendar import trading_day
from app.persistence.errors import SchemaNotAtHeadError
from app.persistence.risk_state import SqlRiskStateStore
from app.ports.risk_state import (
    GLOBAL,
    AuditEntry,
    BreakerState,
    DailyCounters,
    Halt,
    HaltKind,
    StrategyState,
)
from app.settings import Settings

T = TypeVar("T")

AUDIT_SHOWN = 10
NEW_YORK = ZoneInfo("America/New_York")
EXIT_NOTHING_TO_RESUME = 1
EXIT_DATABASE_NOT_READY = 2

StrategyOption = Annotated[
    str | None,
    typer.Option(
        "--strategy",
        help="One strategy by name; without it, every strategy (the global kill switch).",
    ),
]


def halt(
    strategy: StrategyOption = None,
    reason: Annotated[
        str, typer.Option(help="Why, for the audit log.")
    ] = "kill switch engaged from the command line",
) -> None:
    """Stop new entries for one strategy, or for all (the global kill switch); exits go on."""
    scope = _scope(strategy)
    wanted = Halt(
        scope=scope,
        kind=HaltKind.KILL_SWITCH,
        reason=_required(reason),
        since_ns=time.time_ns(),
        actor=_actor(),
    )

    async def engage(store: SqlRiskStateStore) -> Halt | None:
        """None when this call engaged the halt, else the one already in force."""
        while not await store.halt(wanted):
            halts = await store.halts()
            existing = next((h for h in halts if (h.scope, h.kind) == (scope, wanted.kind)), None)
            if existing is not None:
                return existing
        return None

    existing = _run(engage)
    if existing is not None:
        done = "engaged" if scope == GLOBAL else "halted"
        typer.echo(
            f"{_describe(scope)} was already {done} by {existing.actor} since "
            f"{_when(existing.since_ns)} ({existing.reason}); nothing changed"
        )
    elif scope == GLOBAL:
        typer.echo(
            f"GLOBAL kill switch engaged: no new entries for any strategy until "
            f"`trader resume --reason ...` ({wanted.reason})"
        )
    else:
        typer.echo(
            f"strategy {scope} halted: no new entries until "
            f"`trader resume --strategy {scope} --reason ...` ({wanted.reason})"
        )


def resume(
    reason: Annotated[str, typer.Option(help="Why trading may start again, for the audit log.")],
    strategy: StrategyOption = None,
) -> None:
    """Clear every halt of one strategy, or the global ones; audited with you and the reason."""
    scope = _scope(strategy)
    text = _required(reason)

    async def release(store: SqlRiskStateStore) -> tuple[list[Halt], list[Halt]]:
        cleared = await store.resume(scope, actor=_actor(), reason=text, now_ns=time.time_ns())
        return cleared, await store.halts()

    cleared, remaining = _run(release)
    what = "global halts" if scope == GLOBAL else f"strategy {scope}"
    if not cleared:
        state = "no global halt is" if scope == GLOBAL else f"strategy {scope} is not"
        typer.echo(f"nothing to resume: {state} in force (the attempt is audited)", err=True)
        raise typer.Exit(EXIT_NOTHING_TO_RESUME)
    kinds = ", ".join(f"{h.kind.value} (since {_when(h.since_ns)}, by {h.actor})" for h in cleared)
    typer.echo(f"{what} resumed: cleared {kinds}")
    if remaining:
        still = ", ".join(f"{h.scope} ({h.kind.value})" for h in remaining)
        typer.echo(f"still halted: {still}")


def risk() -> None:
    """Halts, strategy states, today's counters, breakers and the latest audit entries."""
    today = trading_day(time.time_ns()).isoformat()

    async def read(
        store: SqlRiskStateStore,
    ) -> tuple[
        list[Halt], list[StrategyState], list[DailyCounters], list[BreakerState], list[AuditEntry]
    ]:
        return (
            await store.halts(),
            await store.strategy_states(),
            await store.daily_counters(today),
            await store.breakers(),
            await store.audit_log(AUDIT_SHOWN),
        )

    halts, states, counters, breakers, audit = _run(read)
    console = Console()
    console.print(_halts_table(halts))
    console.print(_states_table(states))
    console.print(_counters_table(counters, today))
    console.print(_breakers_table(breakers))
    console.print(_audit_table(audit))


def _halts_table(halts: list[Halt]) -> Table:
    table = Table("scope", "kind", "since", "by", "reason", title="halts")
    for h in halts:
        table.add_row(h.scope, h.kind.value, _when(h.since_ns), h.actor, h.reason)
    if not halts:
        table.caption = "none: trading is allowed"
    return table


def _states_table(states: list[StrategyState]) -> Table:
    table = Table(
        "strategy",
        "cumulative P&L",
        "peak P&L",
        "loss streak",
        "cooldown until",
        title="strategy states",
    )
    for s in states:
        table.add_row(
            s.strategy,
            str(s.cumulative_pnl),
            str(s.peak_pnl),
            str(s.loss_streak),
            _when(s.cooldown_until_ns),
        )
    return table


def _counters_table(counters: list[DailyCounters], day: str) -> Table:
    table = Table("strategy", "realized P&L", "trades", "day trades", title=f"counters for {day}")
    for c in counters:
        table.add_row(c.strategy, str(c.realized_pnl), str(c.trades), str(c.day_trades))
    return table


def _breakers_table(breakers: list[BreakerState]) -> Table:
    table = Table("name", "state", "failures", "opened", title="breakers")
    for b in breakers:
        table.add_row(b.name, b.state, str(b.failures), _when(b.opened_ns))
    return table


def _audit_table(entries: list[AuditEntry]) -> Table:
    table = Table("when", "actor", "action", "scope", "detail", title="audit log (newest first)")
    for e in entries:
        table.add_row(_when(e.ts_ns), e.actor, e.action, e.scope, e.detail)
    return table


def _run(action: Callable[[SqlRiskStateStore], Awaitable[T]]) -> T:
    """Open the store, run `action` on it, close it; a database not at head exits with a hint."""

    async def run() -> T:
        store = SqlRiskStateStore(Settings().ledger_url)
        await store.start()
        try:
            return await action(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except SchemaNotAtHeadError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_DATABASE_NOT_READY) from None


def _scope(strategy: str | None) -> str:
    if strategy is None:
        return GLOBAL
    name = strategy.strip()
    if not name or name == GLOBAL:
        raise typer.BadParameter(
            f"name a strategy (not {GLOBAL!r}); leave --strategy out for the global kill switch",
            param_hint="--strategy",
        )
    return name


def _required(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise typer.BadParameter("say why, for the audit log", param_hint="--reason")
    return text


def _describe(scope: str) -> str:
    return "the GLOBAL kill switch" if scope == GLOBAL else f"strategy {scope}"


def _actor() -> str:
    return f"{getpass.getuser()}@{socket.gethostname()}"


def _when(ts_ns: int) -> str:
    if ts_ns == 0:
        return "-"
    moment = dt.datetime.fromtimestamp(ts_ns / 1e9, tz=NEW_YORK)
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z")
