"""The `trader` command."""

from __future__ import annotations

import typer

from app.cli import ledger, risk
from app.cli.backtest import backtest
from app.cli.bars import bars
from app.cli.indicators import indicators
from app.cli.reconcile import reconcile
from app.cli.run import run
from app.cli.strategies import strategies

app = typer.Typer(
    help="Self-hosted algorithmic trading cluster for US stocks", no_args_is_help=True
)
app.command()(run)
app.add_typer(ledger.db, name="db")
app.command()(ledger.positions)
app.command()(ledger.orders)
app.command()(ledger.trades)
app.command()(ledger.signals)
app.command()(ledger.split)
app.command()(risk.halt)
app.command()(risk.resume)
app.command("risk")(risk.risk)
app.command()(indicators)
app.add_typer(strategies, name="strategies")
app.command()(backtest)
app.command()(bars)
app.command()(reconcile)

if __name__ == "__main__":
    app()
