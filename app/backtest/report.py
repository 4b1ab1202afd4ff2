"""The self-contained HTML report of a backtest run.

One file, no external resource (no script, style sheet or font is fetched): inline CSS, inline
SVG charts (app.backtest.svg) and a few lines of inline JavaScript that show the candle chart
of the trade row clicked. Sections: summary metrics, equity curve, drawdown, per-strategy and
per-rule tables, the trade list, and candle charts with entry and exit markers for the charted
trades (the chosen one shown first).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from app.backtest.adjust import adjust_ticks
from app.backtest.bars import NS, BarRow, BarTable
from app.backtest.metrics import Summary, TradeStats
from app.backtest.runner import BacktestResult
from app.backtest.svg import Marker, area_chart, candle_chart, line_chart
from app.domain.corporate_action import Split
from app.engine.bars import BarAggregator
from app.persistence.backtests import BacktestTrade
from app.ports.tickstore import TickStore

CONTEXT_BARS = 30
CHARTED_TRADES = 50
_NEW_YORK = ZoneInfo("America/New_York")

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin-bottom: 16px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.charted { cursor: pointer; }
tr.charted:hover, tr.selected { background: #eef3fb; }
.trade-chart { display: none; }
.trade-chart.shown { display: block; }
.negative { color: #c0392b; }
"""

_SCRIPT = """
function showTrade(n) {
  document.querySelectorAll('.trade-chart').forEach(function (c) {
    c.classList.toggle('shown', c.dataset.trade === String(n));
  });
  document.querySelectorAll('#trade-table tr[data-trade]').forEach(function (r) {
    r.classList.toggle('selected', r.dataset.trade === String(n));
  });
}
document.querySelectorAll('#trade-table tr.charted').forEach(function (r) {
  r.addEventListener('click', function () { showTrade(r.dataset.trade); });
});
"""


def local_time(ts_ns: int) -> str:
    """New York wall time of a timestamp, to the second."""
    moment = dt.datetime.fromtimestamp(ts_ns / NS, tz=_NEW_YORK)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def charted(trades: Sequence[BacktestTrade], chosen: int) -> list[int]:
    """Which trades (0-based) get a chart: the chosen one and the first CHARTED_TRADES."""
    picks = list(range(min(len(trades), CHARTED_TRADES)))
    if 0 <= chosen < len(trades) and chosen not in picks:
        picks.append(chosen)
    return picks


def bars_around(
    table: BarTable, trade: BacktestTrade, *, context: int = CONTEXT_BARS
) -> list[BarRow]:
    """The trade's symbol's bars from `context` bars before its entry to as many after its exit."""
    rows = table.symbol_rows(trade.symbol)
    span = context * table.interval_s * NS
    ts = table.ts[rows]
    rows = rows[(ts >= trade.entry_ns - span) & (ts <= trade.exit_ns + span)]
    return [
        BarRow(
            trade.symbol,
            int(table.ts[i]),
            float(table.open[i]),
            float(table.high[i]),
            float(table.low[i]),
            float(table.close[i]),
            int(table.volume[i]),
        )
        for i in rows.tolist()
    ]


async def store_bars_around(
    store: TickStore,
    trade: BacktestTrade,
    *,
    interval_s: int,
    splits: Mapping[str, Sequence[Split]],
    context: int = CONTEXT_BARS,
) -> list[BarRow]:
    """The same from stored ticks (split-adjusted as the run adjusted them), aggregated into
    bars as the shard aggregates them."""
    span = context * interval_s * NS
    aggregator = BarAggregator(intervals=(interval_s,))
    closed = []
    async for ticks in store.read(
        start_ns=trade.entry_ns - span, end_ns=trade.exit_ns + span, symbols=[trade.symbol]
    ):
        for tick in adjust_ticks(ticks, splits):
            closed.extend(aggregator.add(tick))
    closed.extend(aggregator.flush_all())
    return [BarRow(b.symbol, b.ts_ns, b.open, b.high, b.low, b.close, b.volume) for b in closed]


def render(
    *,
    run_id: str,
    config: Mapping[str, Any],
    result: BacktestResult,
    charts: Mapping[int, Sequence[BarRow]],
    chosen: int,
) -> str:
    """The report as one HTML document; `charts` maps a trade's 0-based index to its bars."""
    summary = result.summary
    curve = result.curve
    first = local_time(curve[0].ts_ns) if curve else ""
    last = local_time(curve[-1].ts_ns) if curve else ""
    equity = [p.equity for p in curve]
    peaks = np.maximum.accumulate(np.asarray(equity)) if equity else np.asarray([])
    drawdown = (np.asarray(equity) / peaks - 1).tolist() if equity else []
    sections = [
        f"<h1>Backtest {escape(run_id)}</h1>",
        _config_section(config, result),
        '<section id="summary"><h2>Summary</h2>' + _summary_table(summary) + "</section>",
        '<section id="equity"><h2>Equity</h2>'
        + line_chart(equity, title="equity curve", first=first, last=last)
        + "</section>",
        '<section id="drawdown"><h2>Drawdown</h2>'
        + area_chart(drawdown, title="drawdown", first=first, last=last)
        + "</section>",
        '<section id="strategies"><h2>Per strategy</h2>'
        + _stats_table("strategy-table", "strategy", summary.by_strategy)
        + "</section>",
        '<section id="rules"><h2>Per rule</h2>'
        + _stats_table("rule-table", "rule", summary.by_rule)
        + "</section>",
        '<section id="trades"><h2>Trades</h2>' + _trade_table(result.trades, charts) + "</section>",
        '<section id="charts"><h2>Trade chart</h2>'
        + _trade_charts(result.trades, charts, chosen)
        + "</section>",
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Backtest {escape(run_id)}</title><style>{_STYLE}</style></head><body>"
        + "".join(sections)
        + f"<script>{_SCRIPT}</script></body></html>"
    )


def _config_section(config: Mapping[str, Any], result: BacktestResult) -> str:
    period = f"{result.first_day} to {result.last_day}"
    rows = [
        ("period", period),
        ("strategies", ", ".join(str(s) for s in config.get("strategies", []))),
        ("carry", str(config.get("carry"))),
        ("seed", str(config.get("seed"))),
        ("bars", f"{result.counts.bars:,}"),
        ("orders", f"{result.counts.orders:,}"),
        ("fills", f"{result.counts.fills:,}"),
        ("open at the end", str(len(result.open_lots))),
    ]
    body = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in rows)
    return f'<section id="config"><h2>Run</h2><table>{body}</table></section>'


def _fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "-"
    match kind:
        case "pct":
            return f"{value:.2%}"
        case "money":
            return f"{value:,.2f}"
        case "hours":
            return f"{value / 3600:,.1f} h"
        case "minutes":
            return f"{value / 60:,.1f} min"
        case _:
            return f"{value:,.2f}"


def _summary_table(s: Summary) -> str:
    rows = [
        ("start equity", _fmt(s.start_equity, "money")),
        ("end equity", _fmt(s.end_equity, "money")),
        ("total return", _fmt(s.total_return, "pct")),
        ("annualized return", _fmt(s.annualized_return, "pct")),
        ("Sharpe", _fmt(s.sharpe, "")),
        ("Sortino", _fmt(s.sortino, "")),
        ("max drawdown", _fmt(s.max_drawdown, "pct")),
        ("max drawdown duration", _fmt(s.max_drawdown_duration_s, "hours")),
        ("trades", str(s.totals.trades)),
        ("win rate", _fmt(s.totals.win_rate, "pct")),
        ("profit factor", _fmt(s.totals.profit_factor, "")),
        ("expectancy", _fmt(s.totals.expectancy, "money")),
        ("average hold", _fmt(s.totals.avg_hold_s, "minutes")),
        ("exposure", _fmt(s.exposure, "pct")),
        ("capital utilization", _fmt(s.capital_utilization, "pct")),
        ("max concurrent positions", str(s.max_concurrent)),
        ("average concurrent positions", _fmt(s.avg_concurrent, "")),
        ("worst trade 1%", _fmt(s.worst_trade_p01, "money")),
        ("worst trade 5%", _fmt(s.worst_trade_p05, "money")),
        ("trading days", str(s.days)),
    ]
    body = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in rows)
    return f'<table id="summary-table">{body}</table>'


def _stats_table(table_id: str, what: str, groups: Mapping[str, TradeStats]) -> str:
    head = (
        f"<tr><th>{what}</th><th>trades</th><th>win rate</th><th>P&amp;L</th>"
        "<th>profit factor</th><th>expectancy</th><th>average hold</th></tr>"
    )
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{g.trades}</td><td>{_fmt(g.win_rate, 'pct')}</td>"
        f"<td>{_fmt(g.pnl, 'money')}</td><td>{_fmt(g.profit_factor, '')}</td>"
        f"<td>{_fmt(g.expectancy, 'money')}</td><td>{_fmt(g.avg_hold_s, 'minutes')}</td></tr>"
        for name, g in groups.items()
    )
    return f'<table id="{table_id}">{head}{rows}</table>'


def _trade_table(trades: Sequence[BacktestTrade], charts: Mapping[int, Sequence[BarRow]]) -> str:
    head = (
        "<tr><th>#</th><th>strategy</th><th>rule</th><th>symbol</th><th>side</th>"
        "<th>entry</th><th>entry price</th><th>exit</th><th>exit price</th><th>qty</th>"
        "<th>fees</th><th>P&amp;L</th><th>exit reason</th></tr>"
    )
    rows = []
    for i, t in enumerate(trades):
        css = ' class="charted"' if i in charts else ""
        pnl_css = ' class="negative"' if t.pnl < 0 else ""
        rows.append(
            f'<tr data-trade="{i + 1}"{css}><td>{i + 1}</td><td>{escape(t.strategy)}</td>'
            f"<td>{escape(t.rule)}</td><td>{escape(t.symbol)}</td><td>{t.side.value}</td>"
            f"<td>{local_time(t.entry_ns)}</td><td>{t.entry_price:.4f}</td>"
            f"<td>{local_time(t.exit_ns)}</td><td>{t.exit_price:.4f}</td><td>{t.qty}</td>"
            f"<td>{t.fees}</td><td{pnl_css}>{t.pnl:.2f}</td><td>{escape(t.exit_reason)}</td></tr>"
        )
    return f'<table id="trade-table">{head}{"".join(rows)}</table>'


def _trade_charts(
    trades: Sequence[BacktestTrade], charts: Mapping[int, Sequence[BarRow]], chosen: int
) -> str:
    if not charts:
        return "<p>No trade to chart.</p>"
    parts = []
    for i, bars in sorted(charts.items()):
        trade = trades[i]
        markers = [
            Marker(_bar_index(bars, trade.entry_ns), float(trade.entry_price), "entry", True),
            Marker(_bar_index(bars, trade.exit_ns), float(trade.exit_price), "exit", False),
        ]
        title = (
            f"#{i + 1} {trade.symbol} {trade.strategy}: {trade.entry_price:.4f} -> "
            f"{trade.exit_price:.4f}, P&L {trade.pnl:.2f} ({trade.exit_reason})"
        )
        shown = " shown" if i == chosen else ""
        chart = candle_chart(
            bars,
            markers,
            title=title,
            first=local_time(bars[0].ts_ns) if bars else "",
            last=local_time(bars[-1].ts_ns) if bars else "",
        )
        parts.append(
            f'<div class="trade-chart{shown}" id="chart-{i + 1}" data-trade="{i + 1}">'
            f"<h3>{escape(title)}</h3>{chart}</div>"
        )
    return "".join(parts)


def _bar_index(bars: Sequence[BarRow], ts_ns: int) -> int:
    """The last bar starting at or before `ts_ns` (0 when the time is before every bar)."""
    index = 0
    for i, bar in enumerate(bars):
        if bar.ts_ns <= ts_ns:
            index = i
    return index
