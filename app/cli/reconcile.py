"""`trader reconcile [--apply] [--json]`: compare the ledger with the venue (S17).

Without --apply it only reads both sides and says what differs and what applying would do. With
--apply it books the fills the ledger missed, moves order statuses the venue moved on, and halts
the strategies concerned by anything it cannot explain, exactly as the executor does at startup.
It applies only while it holds the execution lease, so it never races an executor: when one
holds the lease it refuses and names it (the executor reconciles at startup and daily anyway).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import socket
import sys
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec
import structlog
import typer
from rich.console import Console
from rich.table import Table

from app.bootstrap import ConfigurationError, VenueUnreachable, process_identity
from app.bootstrap.execution import broker_for_lookups, execution_engine
from app.bootstrap.session import venue_clock
from app.clocks.live import LiveClock
from app.engine.reconcile import Action, Difference
from app.persistence.errors import SchemaNotAtHeadError
from app.persistence.lease import SqlLease
from app.persistence.ledger import SqlLedger
from app.persistence.risk_state import SqlRiskStateStore
from app.services.reconciler import Reconciler, ReconcileReport
from app.settings import Settings, Venue

NEW_YORK = ZoneInfo("America/New_York")
LEASE_TTL_MS = 120_000
EXIT_LEASE_HELD = 1
EXIT_NOT_READY = 2


class LeaseHeld(RuntimeError):
    """An executor holds the execution lease; applying now would race it."""


def reconcile(
    apply: Annotated[
        bool,
        typer.Option(
            "--apply",
            help="Book missed fills, move statuses, halt on what cannot be explained. "
            "Refused while an executor holds the execution lease.",
        ),
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Compare the ledger's orders, fills and positions with the venue's."""
    structlog.configure(logger_factory=_stderr_logger)
    try:
        report = asyncio.run(_reconcile(Settings(), apply=apply))
    except LeaseHeld as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(EXIT_LEASE_HELD) from None
    except (SchemaNotAtHeadError, ConfigurationError, VenueUnreachable) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_NOT_READY) from None
    if json_output:
        typer.echo(msgspec.json.encode(report).decode())
        return
    console = Console()
    if not report.differences:
        console.print(f"ledger and venue agree (orders since {_when(report.since_ns)})")
        return
    console.print(_table(report))
    for action in report.actions:
        console.print(f"done: {action}")
    if not report.applied and report.actionable:
        console.print("dry run: nothing changed; `trader reconcile --apply` applies the above")


async def _reconcile(settings: Settings, *, apply: bool) -> ReconcileReport:
    url = settings.ledger_url
    ledger, store, lease = SqlLedger(url), SqlRiskStateStore(url), SqlLease(url)
    try:
        await ledger.start()
        await store.start()
        await lease.start()
        holder = process_identity("reconcile")
        token = await lease.acquire(holder=holder, ttl_ms=LEASE_TTL_MS) if apply else None
        if apply and token is None:
            raise LeaseHeld(
                f"{await lease.holder() or 'an executor'} holds the execution lease; it "
                "reconciles on its own (at startup and daily), or stop it and try again"
            )
        try:
            return await _run(settings, ledger=ledger, store=store, apply=apply)
        finally:
            if token is not None:
                await lease.release(holder=holder, token=token)
    finally:
        await lease.close()
        await store.close()
        await ledger.close()


async def _run(
    settings: Settings, *, ledger: SqlLedger, store: SqlRiskStateStore, apply: bool
) -> ReconcileReport:
    """The ledger's book loaded as the executor loads it at startup, then reconciled."""
    engine = execution_engine(settings)
    engine.portfolio.load(lots=await ledger.open_lots(), positions=await ledger.positions())
    engine.load(await ledger.open_orders())
    clock = LiveClock() if settings.venue is Venue.SIM else venue_clock(settings)[0]
    reconciler = Reconciler(store=store, actor=f"{getpass.getuser()}@{socket.gethostname()}")
    async with broker_for_lookups(settings, clock=clock, ledger=ledger) as broker:
        return await reconciler.run(
            engine=engine, ledger=ledger, broker=broker, clock=clock, apply=apply
        )


def _stderr_logger(*_args: object) -> structlog.PrintLogger:
    """Log lines go to stderr (looked up at each line): stdout carries the report alone, so
    `--json` output always parses."""
    return structlog.PrintLogger(sys.stderr)


def _table(report: ReconcileReport) -> Table:
    mode = "applied" if report.applied else "dry run"
    table = Table(
        "kind",
        "symbol",
        "strategy",
        "local",
        "venue",
        "action",
        title=f"reconciliation ({mode}, orders since {_when(report.since_ns)})",
    )
    for diff in report.differences:
        table.add_row(
            diff.kind.value,
            diff.symbol,
            diff.strategy or "-",
            _with_order(diff, diff.local),
            diff.venue,
            _action(diff),
        )
    return table


def _with_order(diff: Difference, text: str) -> str:
    return f"{diff.client_order_id}: {text}" if diff.client_order_id else text


def _action(diff: Difference) -> str:
    scopes = ", ".join(diff.scopes)
    match diff.action:
        case Action.BOOK_FILL:
            return f"book {diff.qty or Decimal(0)}"
        case Action.SET_STATUS:
            return f"set {diff.target.value if diff.target else '-'}"
        case Action.HALT:
            return f"halt {scopes}"
        case Action.ALREADY_HALTED:
            return f"none ({scopes} halted)"


def _when(ts_ns: int) -> str:
    moment = dt.datetime.fromtimestamp(ts_ns / 1e9, tz=NEW_YORK)
    return moment.strftime("%Y-%m-%d %H:%M %Z")
