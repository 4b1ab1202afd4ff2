"""`trader backtest`: replay bars or recorded ticks through the trading core, then report.

    trader backtest --bars bars.parquet [--from 2026-03-02 --to 2026-03-27] \\
        [--strategy breakout ...] [--param lookback=30 ...] [--carry] [--seed 7] \\
        [--json] [--report out.html [--report-trade N]]
    trader backtest --store --from 2026-03-02 --to 2026-03-06

The executor is composed from the settings exactly as a paper session composes it (risk chain,
sizing, limits, arbitration, the simulated venue's latency, slippage, participation and fees).
Splits recorded with `trader split` are applied to the history first. The run is stored in
the ledger database under the hash of its configuration (`--no-save` skips that); the same
configuration run again replaces its earlier result.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from app.arbitration import ArbiterConfig
from app.backtest.adjust import adjust_bars, by_symbol
from app.backtest.bars import BarFileError, BarRow, BarTable, read_bar_file
from app.backtest.identity import file_digest, run_id
from app.backtest.report import bars_around, charted, render, store_bars_around
from app.backtest.runner import BacktestResult, run_bars, run_ticks
from app.backtest.runner import Progress as ProgressFn
from app.backtest.setup import CoreSetup, ExecutionSetup, VenueSetup
from app.backtest.strategies import (
    BadParam,
    UnknownStrategy,
    parse_params,
    select_strategies,
)
from app.bootstrap.execution import risk_chain
from app.bootstrap.roles import build_tick_store
from app.brokers.sim.fill_model import FillModel
from app.clocks.live import LiveClock
from app.domain.corporate_action import Split
from app.persistence.backtests import BacktestRun, SqlBacktestStore
from app.persistence.errors import SchemaNotAtHeadError
from app.persistence.migrate import upgrade
from app.ports.tickstore import TickStore
from app.risk.book import RiskLimits
from app.risk.sizing import SizingConfig
from app.settings import Settings
from app.strategies.base import Strategy


def execution_setup(settings: Settings) -> CoreSetup:
    """The executor and venue of a paper session (app.bootstrap.execution), from the settings."""
    risk, sim, arbitration = settings.risk, settings.sim, settings.arbitration
    return CoreSetup(
        execution=ExecutionSetup(
            starting_cash=risk.starting_cash,
            risk=risk_chain(risk),
            sizing=SizingConfig(
                risk_per_trade_pct=risk.risk_per_trade_pct,
                max_position_value=risk.max_position_value,
            ),
            limits=RiskLimits(
                max_drawdown=risk.max_drawdown,
                global_max_drawdown=risk.global_max_drawdown,
                loss_streak=risk.loss_streak,
                cooldown_ns=risk.cooldown_s * 1_000_000_000,
            ),
            order_ttl_ns=settings.order_ttl_s * 1_000_000_000,
            entry_collar_bps=risk.entry_collar_bps,
            arbitration=ArbiterConfig(
                window_ns=arbitration.window_ms * 1_000_000,
                correlation_threshold=arbitration.correlation_threshold,
                correlation_min_points=arbitration.correlation_min_points,
            ),
        ),
        venue=VenueSetup(
            latency_ns=sim.latency_ms * 1_000_000,
            buying_power_multiplier=sim.buying_power_multiplier,
            fill_model=FillModel(
                slippage_bps=sim.slippage_bps,
                participation=sim.participation,
                fee_per_share=sim.fee_per_share,
            ),
        ),
    )


def _day(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None


def _period(first: str | None, last: str | None) -> tuple[dt.date | None, dt.date | None]:
    start, end = _day(first, "--from"), _day(last, "--to")
    if start is not None and end is not None and start > end:
        raise typer.BadParameter(f"--from {start} is after --to {end}", param_hint="--from")
    return start, end


def _strategies(
    names: Sequence[str], pairs: Sequence[str]
) -> tuple[list[Strategy], dict[str, str]]:
    try:
        params = parse_params(pairs)
        return select_strategies(names, params), params
    except UnknownStrategy as exc:
        raise typer.BadParameter(str(exc), param_hint="--strategy") from None
    except BadParam as exc:
        raise typer.BadParameter(str(exc), param_hint="--param") from None


async def _open_store(settings: Settings) -> SqlBacktestStore:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.migrate_on_start:
        await upgrade(settings.ledger_url)
    store = SqlBacktestStore(settings.ledger_url)
    await store.start()
    return store


def _progress_bar(enabled: bool) -> Progress | None:
    if not enabled:
        return None
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )


def _reporter(bar: Progress | None, what: str) -> ProgressFn | None:
    if bar is None:
        return None
    task = bar.add_task(what, total=None)

    def report(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return report


def _summary_table(run: str, result: BacktestResult) -> Table:
    s = result.summary
    table = Table(title=f"backtest {run}  ({result.first_day} to {result.last_day})")
    table.add_column("metric")
    table.add_column("value", justify="right")

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.2%}"

    def num(value: float | None) -> str:
        return "-" if value is None else f"{value:,.2f}"

    rows = [
        ("end equity", num(s.end_equity)),
        ("total return", pct(s.total_return)),
        ("annualized return", pct(s.annualized_return)),
        ("Sharpe", num(s.sharpe)),
        ("Sortino", num(s.sortino)),
        ("max drawdown", pct(s.max_drawdown)),
        ("trades", str(s.totals.trades)),
        ("win rate", pct(s.totals.win_rate)),
        ("profit factor", num(s.totals.profit_factor)),
        ("expectancy", num(s.totals.expectancy)),
        ("exposure", pct(s.exposure)),
        ("max concurrent", str(s.max_concurrent)),
        ("bars", f"{result.counts.bars:,}"),
        ("open at the end", str(len(result.open_lots))),
    ]
    for metric, value in rows:
        table.add_row(metric, value)
    for name, stats in s.by_strategy.items():
        table.add_row(f"  {name}", f"{stats.trades} trades, P&L {stats.pnl:,.2f}")
    return table


def backtest(
    bars: Annotated[
        Path | None, typer.Option("--bars", help="Bar file (parquet: symbol, ts, OHLC, volume).")
    ] = None,
    store: Annotated[
        bool, typer.Option("--store", help="Replay the recorded ticks of the tick store.")
    ] = False,
    first: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    last: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")] = None,
    strategy: Annotated[
        list[str] | None,
        typer.Option("--strategy", "-s", help="Strategy to run (repeatable; default: all)."),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="key=value or strategy.key=value (repeatable)."),
    ] = None,
    carry: Annotated[
        bool, typer.Option("--carry", help="Keep positions across sessions (default: flatten).")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the replay.")] = 7,
    interval: Annotated[
        int | None, typer.Option(help="Bar interval in seconds (default: the strategy interval).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write a self-contained HTML report here.")
    ] = None,
    report_trade: Annotated[
        int, typer.Option("--report-trade", min=1, help="Trade whose chart the report shows.")
    ] = 1,
    save: Annotated[
        bool, typer.Option("--save/--no-save", help="Store the run in the ledger database.")
    ] = True,
) -> None:
    """Backtest strategies over a bar file or the tick store, through the trading core."""
    if (bars is None) == (not store):
        raise typer.BadParameter("give exactly one of --bars FILE or --store", param_hint="--bars")
    start, end = _period(first, last)
    chosen, params = _strategies(strategy or [], param or [])
    settings = Settings()
    interval_s = interval or settings.strategy_interval_s
    table: BarTable | None = None
    if bars is not None:
        try:
            table = read_bar_file(bars, interval_s=interval_s).between(start, end)
        except BarFileError as exc:
            raise typer.BadParameter(str(exc), param_hint="--bars") from None
        if not len(table):
            raise typer.BadParameter(
                f"{bars} has no bars from {start} to {end}", param_hint="--bars"
            )
        source: dict[str, Any] = {"bars": {"sha256": file_digest(bars)}}
    else:
        if start is None or end is None:
            raise typer.BadParameter("--store needs --from and --to", param_hint="--from")
        where = settings.questdb_url or str(settings.tick_dir.resolve())
        source = {"store": where}
    config: dict[str, Any] = {
        "source": source,
        "period": {"from": str(start) if start else None, "to": str(end) if end else None},
        "strategies": [s.name for s in chosen],
        "params": params,
        "carry": carry,
        "seed": seed,
        "interval_s": interval_s,
        "risk": settings.risk.model_dump(mode="json"),
        "arbitration": settings.arbitration.model_dump(mode="json"),
        "sim": settings.sim.model_dump(mode="json"),
        "order_ttl_s": settings.order_ttl_s,
    }
    run = run_id(config)
    try:
        result, html = asyncio.run(
            _run(
                settings,
                config=config,
                run=run,
                table=table,
                days=_days(start, end),
                strategies=chosen,
                carry=carry,
                seed=seed,
                interval_s=interval_s,
                save=save,
                report=report is not None,
                report_trade=report_trade - 1,
                show_progress=not json_output and sys.stdout.isatty(),
            )
        )
    except SchemaNotAtHeadError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if report is not None and html is not None:
        report.write_text(html, encoding="utf-8")
    if json_output:
        document = {
            "run_id": run,
            "config": config,
            "period": {"from": str(result.first_day), "to": str(result.last_day)},
            "counts": msgspec.to_builtins(result.counts),
            "summary": result.summary.to_dict(),
            "open_positions": len(result.open_lots),
            "report": str(report) if report is not None else None,
        }
        typer.echo(msgspec.json.encode(document).decode())
    else:
        Console().print(_summary_table(run, result))
        if report is not None:
            typer.echo(f"report written to {report}")


def _days(start: dt.date | None, end: dt.date | None) -> list[dt.date]:
    if start is None or end is None:
        return []
    return [start + dt.timedelta(days=k) for k in range((end - start).days + 1)]


async def _run(
    settings: Settings,
    *,
    config: dict[str, Any],
    run: str,
    table: BarTable | None,
    days: list[dt.date],
    strategies: list[Strategy],
    carry: bool,
    seed: int,
    interval_s: int,
    save: bool,
    report: bool,
    report_trade: int,
    show_progress: bool,
) -> tuple[BacktestResult, str | None]:
    setup = execution_setup(settings)
    database = await _open_store(settings)
    try:
        symbols = list(table.names) if table is not None else None
        splits = await database.splits(symbols)
        bar = _progress_bar(show_progress)
        ticks: TickStore | None = None
        try:
            if bar is not None:
                bar.start()
            adjusted = adjust_bars(table, splits) if table is not None else None
            if adjusted is not None:
                result = run_bars(
                    adjusted,
                    strategies=strategies,
                    setup=setup,
                    carry=carry,
                    seed=seed,
                    progress=_reporter(bar, "bars"),
                )
            else:
                ticks = await build_tick_store(settings)
                result = await run_ticks(
                    ticks,
                    days=days,
                    strategies=strategies,
                    setup=setup,
                    interval_s=interval_s,
                    carry=carry,
                    seed=seed,
                    splits=by_symbol(splits),
                    progress=_reporter(bar, "days"),
                )
            html = (
                await _report(
                    run, config, result, adjusted, ticks, splits, interval_s, report_trade
                )
                if report
                else None
            )
        finally:
            if bar is not None:
                bar.stop()
            if ticks is not None:
                await ticks.close()
        if save:
            await database.save(
                BacktestRun(
                    id=run,
                    config=config,
                    params=config["params"],
                    period_from=str(result.first_day),
                    period_to=str(result.last_day),
                    strategies=config["strategies"],
                    summary=result.summary.to_dict(),
                    created_ns=LiveClock().now_ns(),
                ),
                result.trades,
            )
    finally:
        await database.close()
    return result, html


async def _report(
    run: str,
    config: dict[str, Any],
    result: BacktestResult,
    adjusted: BarTable | None,
    ticks: TickStore | None,
    splits: list[Split],
    interval_s: int,
    chosen: int,
) -> str:
    charts: dict[int, list[BarRow]] = {}
    for index in charted(result.trades, chosen):
        trade = result.trades[index]
        if adjusted is not None:
            charts[index] = bars_around(adjusted, trade)
        elif ticks is not None:
            charts[index] = await store_bars_around(
                ticks, trade, interval_s=interval_s, splits=by_symbol(splits)
            )
    return render(run_id=run, config=config, result=result, charts=charts, chosen=chosen)
