"""`trader run`: a monolith paper session with a live panel, or a final JSON summary."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Annotated

import msgspec
import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from app.bootstrap import ConfigurationError, Role, Runtime, VenueUnreachable, build
from app.cli.summary import RunSummary, summarize
from app.observability.logging import configure_logging
from app.settings import FeedKind, LogFormat, Settings
from workers._serve import serve


def _panel(summary: RunSummary, *, ticks_per_s: float) -> Table:
    table = Table(title="trader - paper session", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    rows = [
        ("ticks/s", f"{ticks_per_s:,.0f}"),
        ("ticks", f"{summary.ticks:,}"),
        ("quarantined", f"{summary.ticks_quarantined:,}"),
        ("bars", f"{summary.bars:,}"),
        ("signals", f"{summary.signals:,}"),
        ("orders", f"{summary.orders:,}"),
        ("fills", f"{summary.fills:,}"),
        ("open positions", str(len(summary.open_positions))),
        ("realized P&L", f"{summary.realized_pnl:,}"),
        ("unrealized P&L", f"{summary.unrealized_pnl:,}"),
    ]
    for what, value in rows:
        table.add_row(what, value)
    return table


async def _session(
    settings: Settings, *, role: Role, duration: float | None, json_output: bool
) -> RunSummary:
    async with await build(settings, role=role) as runtime:
        return await _serve_and_summarize(runtime, duration=duration, json_output=json_output)


async def _serve_and_summarize(
    runtime: Runtime, *, duration: float | None, json_output: bool
) -> RunSummary:
    if json_output or not sys.stdout.isatty():
        await serve(runtime, duration_s=duration)
        return await summarize(runtime)
    console = Console()
    last = {"t": time.monotonic(), "ticks": 0}
    with Live(console=console, refresh_per_second=4) as live:

        async def refresh() -> None:
            summary = await summarize(runtime)
            now = time.monotonic()
            rate = (summary.ticks - last["ticks"]) / max(now - last["t"], 1e-9)
            last["t"], last["ticks"] = now, summary.ticks
            live.update(_panel(summary, ticks_per_s=rate))

        await serve(runtime, duration_s=duration, on_tick=refresh)
    return await summarize(runtime)


def run(
    duration: Annotated[
        float | None,
        typer.Option(
            min=0.1, help="Stop after this many seconds (default: until the session ends or Ctrl-C)"
        ),
    ] = None,
    feed: Annotated[FeedKind | None, typer.Option(help="Market data source")] = None,
    speed: Annotated[
        float | None, typer.Option(min=0.01, max=1000, help="Market seconds per real second")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the synthetic tape")] = None,
    minutes: Annotated[
        int | None,
        typer.Option(min=1, help="End the session this many market minutes after its start"),
    ] = None,
    role: Annotated[Role, typer.Option(help="Process role")] = Role.MONOLITH,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print a JSON summary at the end")
    ] = False,
) -> None:
    """Run a paper trading session (monolith on embedded defaults unless configured otherwise)."""
    base = Settings()
    given = {"speed": speed, "seed": seed, "minutes": minutes}
    synthetic = base.synthetic.model_copy(update={k: v for k, v in given.items() if v is not None})
    settings = base.model_copy(
        update={"synthetic": synthetic, **({"feed": feed} if feed is not None else {})}
    )
    quiet = not json_output and sys.stdout.isatty()
    configure_logging(
        json_output=settings.log_format is LogFormat.JSON,
        level="warning" if quiet else settings.log_level,
    )
    started = time.monotonic()
    try:
        summary = asyncio.run(
            _session(settings, role=role, duration=duration, json_output=json_output)
        )
    except ConfigurationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except VenueUnreachable as exc:
        typer.echo(f"error: cannot reach the venue: {exc}", err=True)
        raise typer.Exit(3) from exc
    if json_output:
        typer.echo(msgspec.json.encode(summary).decode())
    else:
        average = summary.ticks / max(time.monotonic() - started, 1e-9)
        Console().print(_panel(summary, ticks_per_s=average))
