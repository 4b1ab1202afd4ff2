"""`trader db upgrade`, `trader positions`, `trader orders`: the ledger from the command line."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar
from zoneinfo import ZoneInfo

import msgspec
import typer
from rich.console import Console
from rich.table import Table

from app.domain.calendar import session_open_ns
from app.domain.corporate_action import Split
from app.persistence.errors import SchemaNotAtHeadError
from app.persistence.ledger import SqlLedger
from app.persistence.migrate import upgrade as upgrade_schema
from app.settings import Settings

T = TypeVar("T")
NEW_YORK = ZoneInfo("America/New_York")

db = typer.Typer(help="Database schema")


@db.command("upgrade")
def upgrade() -> None:
    """Create or migrate the ledger schema to the latest revision."""
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(upgrade_schema(settings.ledger_url))
    typer.echo("ledger schema is at the latest revision")


def _on_ledger(action: Callable[[SqlLedger], Awaitable[T]]) -> T:
    """Run `action` on a started ledger; a database not ready for this code is a clear error."""

    async def run() -> T:
        ledger = SqlLedger(Settings().ledger_url)
        await ledger.start()
        try:
            return await action(ledger)
        finally:
            await ledger.close()

    try:
        return asyncio.run(run())
    except SchemaNotAtHeadError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def positions() -> None:
    """Positions per strategy and symbol, with realized P&L."""

    rows = _on_ledger(lambda ledger: ledger.positions())
    table = Table("strategy", "symbol", "qty", "avg cost", "realized P&L", title="positions")
    for p in sorted(rows, key=lambda p: (p.strategy, p.symbol)):
        table.add_row(p.strategy, p.symbol, str(p.qty), str(p.avg_cost), str(p.realized_pnl))
    Console().print(table)


def orders(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many, newest first")] = 50,
) -> None:
    """Recent orders, newest first."""

    rows = _on_ledger(lambda ledger: ledger.recent_orders(limit))
    table = Table(
        "client order id",
        "strategy",
        "symbol",
        "side",
        "qty",
        "filled",
        "avg",
        "status",
        "reason",
        title="orders",
    )
    for o in rows:
        table.add_row(
            o.client_order_id,
            o.strategy,
            o.symbol,
            o.side.value,
            str(o.qty),
            str(o.filled_qty),
            str(o.avg_fill_price or ""),
            o.status.value,
            o.reason,
        )
    Console().print(table)


def trades(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many, newest first")] = 50,
) -> None:
    """The trade log: each exit execution linked to the entry it closed, with why and P&L."""

    rows = _on_ledger(lambda ledger: ledger.trades(limit))
    table = Table(
        "strategy",
        "symbol",
        "qty",
        "entry",
        "exit",
        "why",
        "P&L",
        "entry order",
        title="trades",
    )
    for t in rows:
        table.add_row(
            t.strategy,
            t.symbol,
            str(t.qty),
            str(t.entry_price),
            str(t.exit_price),
            t.exit_reason,
            str(t.realized_pnl),
            t.entry_order_id,
        )
    Console().print(table)


def split(
    symbol: Annotated[str, typer.Argument(help="The symbol that splits")],
    ratio: Annotated[str, typer.Argument(help="New:old shares, e.g. 4:1 (forward) or 1:10")],
    effective: Annotated[str, typer.Option(help="First trading day at the new price, YYYY-MM-DD")],
) -> None:
    """Apply a split to the book (lots, positions, exit state) before that day's open; once."""
    try:
        numerator, denominator = (int(part) for part in ratio.split(":"))
        day = datetime.date.fromisoformat(effective)
        action = Split(symbol.upper(), numerator, denominator, session_open_ns(day))
    except ValueError as exc:
        raise typer.BadParameter(f"{ratio!r} / {effective!r}: {exc}") from exc

    fraction = _on_ledger(lambda ledger: ledger.apply_split(action))
    if fraction is None:
        typer.echo(f"{symbol} {ratio} effective {effective} was applied before; nothing changed")
        return
    typer.echo(
        f"applied {symbol} {ratio} effective {effective}; cash in lieu for {fraction} shares"
    )


def signals(
    last: Annotated[int, typer.Option(min=1, max=10_000, help="How many, newest first")] = 20,
    strategy: Annotated[str | None, typer.Option(help="Only this strategy")] = None,
    symbol: Annotated[str | None, typer.Option(help="Only this symbol")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Full audit records as JSON lines")
    ] = False,
) -> None:
    """Recent signals with their audit: what fired, the arbiter's verdict, the risk decision."""
    rows = _on_ledger(
        lambda ledger: ledger.recent_signals(
            last, strategy=strategy, symbol=symbol.upper() if symbol else None
        )
    )
    if as_json:
        for record in rows:
            typer.echo(msgspec.json.encode(record).decode())
        return
    table = Table(
        "time (NY)",
        "strategy",
        "symbol",
        "kind",
        "price",
        "tag",
        "conf",
        "what fired",
        "arbiter",
        "decision",
        title=f"last {len(rows)} signals",
    )
    for record in rows:
        s, d = record.signal, record.decision
        table.add_row(
            _ny(s.ts_ns),
            s.strategy,
            s.symbol,
            s.kind.value,
            f"{s.price:.4f}",
            s.detection or "-",
            f"{s.confidence:.2f}",
            s.reason,
            d.checks.get("arbitration", "-"),
            ("approved " + str(d.qty)) if d.approved else f"refused: {d.reason}",
        )
    Console().print(table)


def _ny(ts_ns: int) -> str:
    moment = datetime.datetime.fromtimestamp(ts_ns / 1e9, tz=NEW_YORK)
    return moment.strftime("%m-%d %H:%M:%S")
