"""`trader db upgrade`, `trader positions`, `trader orders`: the ledger from the command line."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.persistence.ledger import SqlLedger
from app.persistence.migrate import upgrade as upgrade_schema
from app.settings import Settings

db = typer.Typer(help="Database schema")


@db.command("upgrade")
def upgrade() -> None:
    """Create or migrate the ledger schema to the latest revision."""
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(upgrade_schema(settings.ledger_url))
    typer.echo("ledger schema is at the latest revision")


async def _open() -> SqlLedger:
    ledger = SqlLedger(Settings().ledger_url)
    await ledger.start()
    return ledger


def positions() -> None:
    """Positions per strategy and symbol, with realized P&L."""

    async def show() -> None:
        ledger = await _open()
        try:
            rows = await ledger.positions()
        finally:
            await ledger.close()
        table = Table("strategy", "symbol", "qty", "avg cost", "realized P&L", title="positions")
        for p in sorted(rows, key=lambda p: (p.strategy, p.symbol)):
            table.add_row(p.strategy, p.symbol, str(p.qty), str(p.avg_cost), str(p.realized_pnl))
        Console().print(table)

    asyncio.run(show())


def orders(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many, newest first")] = 50,
) -> None:
    """Recent orders, newest first."""

    async def show() -> None:
        ledger = await _open()
        try:
            rows = await ledger.recent_orders(limit)
        finally:
            await ledger.close()
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

    asyncio.run(show())
