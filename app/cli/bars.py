"""`trader bars`: historical bars from Alpaca into a bar file, for backtests and inspection.

The bars are split-adjusted by Alpaca, fetched one trading day at a time under the account's
REST budget (a Rich progress bar counts the days), and written in the format `trader backtest
--bars` and `trader indicators --bars` read. Nothing is written unless every day was fetched.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
import sys
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress

from app.backtest.bars import BarFileError, BarTable, write_bar_file
from app.bootstrap.runtime import ConfigurationError
from app.bootstrap.venue_alpaca import alpaca_config, alpaca_limiter
from app.bootstrap.venue_link import Closer
from app.brokers.alpaca.bars import AlpacaBars
from app.clocks.live import LiveClock
from app.domain.calendar import is_trading_day, local_time_ns, next_trading_day
from app.domain.market import Bar
from app.ports.broker import BrokerError
from app.settings import Settings

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def trading_days(first: dt.date, last: dt.date) -> list[dt.date]:
    day = first if is_trading_day(first) else next_trading_day(first)
    days: list[dt.date] = []
    while day <= last:
        days.append(day)
        day = next_trading_day(day)
    return days


def bar_table(bars: list[Bar], *, interval_s: int) -> BarTable:
    return BarTable.of(
        symbols=[bar.symbol for bar in bars],
        ts=np.array([bar.ts_ns for bar in bars], dtype=np.int64),
        open_=np.array([bar.open for bar in bars], dtype=np.float64),
        high=np.array([bar.high for bar in bars], dtype=np.float64),
        low=np.array([bar.low for bar in bars], dtype=np.float64),
        close=np.array([bar.close for bar in bars], dtype=np.float64),
        volume=np.array([bar.volume for bar in bars], dtype=np.int64),
        interval_s=interval_s,
    )


async def fetch_to_file(
    settings: Settings,
    *,
    symbols: list[str],
    days: list[dt.date],
    interval_s: int,
    out: Path,
    progress: Progress | None = None,
) -> int:
    """Fetch every day's bars (the whole New York date, extended hours included), then write
    them to `out`; returns the number of bars. Raises BrokerError when Alpaca cannot answer."""
    closers: list[Closer] = []
    client = AlpacaBars(
        alpaca_config(settings),
        limiter=alpaca_limiter(settings, closers),
        clock=LiveClock(),
        rng=random.Random(),  # noqa: S311 - backoff jitter, not secrecy
    )
    bars: list[Bar] = []
    task = progress.add_task("fetching days", total=len(days)) if progress is not None else None
    try:
        for day in days:
            start = local_time_ns(day, 0)
            end = local_time_ns(next_trading_day(day), 0) - 1
            bars.extend(
                await client.fetch_bars(symbols, start_ns=start, end_ns=end, interval_s=interval_s)
            )
            if progress is not None and task is not None:
                progress.advance(task)
    finally:
        await client.close()
        for close in closers:
            await close()
    write_bar_file(out, bar_table(bars, interval_s=interval_s))
    return len(bars)


def bars(
    symbols: Annotated[str, typer.Option(help="Comma-separated symbols, e.g. SOUN,BBAI")],
    first: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD")],
    last: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD")],
    out: Annotated[Path, typer.Option(help="The bar file to write (.parquet)")],
    interval: Annotated[
        int, typer.Option(help="Bar length in seconds: 60, 300, 900, 1800, 3600 or 86400")
    ] = 60,
) -> None:
    """Download split-adjusted historical bars from Alpaca into a bar file."""
    wanted = [part.strip().upper() for part in symbols.split(",") if part.strip()]
    try:
        from_day, to_day = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    except ValueError as exc:
        typer.echo(f"error: dates must be YYYY-MM-DD: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    days = trading_days(from_day, to_day)
    if not wanted or not days:
        typer.echo("error: give at least one symbol and a range with a trading day", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    progress = (
        Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn())
        if sys.stderr.isatty()
        else None
    )
    try:
        with progress or contextlib.nullcontext():
            count = asyncio.run(
                fetch_to_file(
                    Settings(),
                    symbols=wanted,
                    days=days,
                    interval_s=interval,
                    out=out,
                    progress=progress,
                )
            )
    except (ConfigurationError, ValueError, BarFileError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except BrokerError as exc:
        typer.echo(f"error: Alpaca did not answer: {exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    typer.echo(f"{count} bars of {len(wanted)} symbols over {len(days)} days written to {out}")
