"""Performance statistics of a backtest, from its equity curve and its round trips. Pure.

Definitions (floats: these are statistics, not booked money):

* returns: total = end / start - 1; annualized = (1 + total) ** (252 / days) - 1 over the
  trading days the curve covers.
* daily returns: the equity at the last sample of each New York trading day against the day
  before (the first day against the starting equity). Sharpe = mean / sample stdev * sqrt(252);
  Sortino = mean / downside deviation * sqrt(252), the downside deviation being
  sqrt(mean(min(r, 0) ** 2)) over all days. Both None with fewer than two days or no spread.
* drawdown: the largest fall from a running peak, as a fraction of that peak; its duration is
  the longest market time from a peak until the equity first regains it (or the last sample).
* trades: win rate = share with P&L > 0; profit factor = gross profit / gross loss (None
  without losses); expectancy = mean P&L; average hold = mean of exit - entry, in seconds;
  worst-trade quantiles = the 1% and 5% quantiles of trade P&L (linear interpolation).
* time in market: exposure = share of equity samples (one per replay step) with a position
  open; capital utilization = mean of (open positions at cost / equity) over the samples;
  concurrency = the largest and the mean number of open positions over the samples.

Breakdowns repeat the trade statistics per strategy and per rule (app.backtest.trades).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from app.domain.calendar import trading_day
from app.persistence.backtests import BacktestTrade

TRADING_DAYS = 252
NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class EquityPoint:
    """The book at the end of one replay step: equity marked to the last prints, how many
    positions are open and what they cost."""

    ts_ns: int
    equity: float
    open_positions: int
    invested: float


@dataclass(frozen=True, slots=True)
class TradeStats:
    trades: int
    wins: int
    win_rate: float | None
    pnl: float
    profit_factor: float | None
    expectancy: float | None
    avg_hold_s: float | None


@dataclass(frozen=True, slots=True)
class Summary:
    start_equity: float
    end_equity: float
    days: int
    total_return: float
    annualized_return: float | None
    sharpe: float | None
    sortino: float | None
    max_drawdown: float
    max_drawdown_duration_s: float
    exposure: float
    capital_utilization: float
    max_concurrent: int
    avg_concurrent: float
    worst_trade_p01: float | None
    worst_trade_p05: float | None
    totals: TradeStats
    by_strategy: dict[str, TradeStats]
    by_rule: dict[str, TradeStats]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(
    *, start_equity: float, curve: Sequence[EquityPoint], trades: Sequence[BacktestTrade]
) -> Summary:
    end = curve[-1].equity if curve else start_equity
    total = end / start_equity - 1
    daily = daily_returns(start_equity, curve)
    drawdown, duration_ns = max_drawdown(curve)
    pnls = [float(t.pnl) for t in trades]
    counts = [p.open_positions for p in curve]
    return Summary(
        start_equity=start_equity,
        end_equity=end,
        days=len(daily),
        total_return=total,
        annualized_return=annualized(total, len(daily)),
        sharpe=sharpe(daily),
        sortino=sortino(daily),
        max_drawdown=drawdown,
        max_drawdown_duration_s=duration_ns / NS,
        exposure=_mean([1.0 if n > 0 else 0.0 for n in counts]) or 0.0,
        capital_utilization=_mean([p.invested / p.equity for p in curve if p.equity > 0]) or 0.0,
        max_concurrent=max(counts, default=0),
        avg_concurrent=_mean([float(n) for n in counts]) or 0.0,
        worst_trade_p01=quantile(pnls, 0.01),
        worst_trade_p05=quantile(pnls, 0.05),
        totals=trade_stats(trades),
        by_strategy=_grouped(trades, lambda t: t.strategy),
        by_rule=_grouped(trades, lambda t: t.rule),
    )


def daily_returns(start_equity: float, curve: Sequence[EquityPoint]) -> list[float]:
    closes: dict[object, float] = {}
    for point in curve:
        closes[trading_day(point.ts_ns)] = point.equity
    returns: list[float] = []
    previous = start_equity
    for equity in closes.values():
        returns.append(equity / previous - 1)
        previous = equity
    return returns


def annualized(total: float, days: int) -> float | None:
    if days <= 0 or total <= -1:
        return None
    return float((1 + total) ** (TRADING_DAYS / days) - 1)


def sharpe(returns: Sequence[float]) -> float | None:
    if len(returns) < 2:
        return None
    spread = statistics.stdev(returns)
    if spread == 0:
        return None
    return statistics.fmean(returns) / spread * math.sqrt(TRADING_DAYS)


def sortino(returns: Sequence[float]) -> float | None:
    if len(returns) < 2:
        return None
    downside = math.sqrt(statistics.fmean([min(r, 0.0) ** 2 for r in returns]))
    if downside == 0:
        return None
    return statistics.fmean(returns) / downside * math.sqrt(TRADING_DAYS)


def max_drawdown(curve: Sequence[EquityPoint]) -> tuple[float, int]:
    """(largest fall from a running peak as a fraction of it, longest time under a peak in ns)."""
    if not curve:
        return 0.0, 0
    peak, peak_ns = curve[0].equity, curve[0].ts_ns
    worst, longest, under = 0.0, 0, False
    for point in curve:
        if point.equity >= peak:
            if under:
                longest = max(longest, point.ts_ns - peak_ns)
            peak, peak_ns, under = point.equity, point.ts_ns, False
            continue
        under = True
        worst = max(worst, (peak - point.equity) / peak)
    if under:
        longest = max(longest, curve[-1].ts_ns - peak_ns)
    return worst, longest


def quantile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile with linear interpolation between the closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def trade_stats(trades: Sequence[BacktestTrade]) -> TradeStats:
    pnls = [float(t.pnl) for t in trades]
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p < 0]
    return TradeStats(
        trades=len(pnls),
        wins=len(wins),
        win_rate=len(wins) / len(pnls) if pnls else None,
        pnl=math.fsum(pnls),
        profit_factor=math.fsum(wins) / -math.fsum(losses) if losses else None,
        expectancy=_mean(pnls),
        avg_hold_s=_mean([(t.exit_ns - t.entry_ns) / NS for t in trades]),
    )


def _grouped(
    trades: Sequence[BacktestTrade], key: Callable[[BacktestTrade], str]
) -> dict[str, TradeStats]:
    groups: dict[str, list[BacktestTrade]] = {}
    for trade in trades:
        groups.setdefault(key(trade), []).append(trade)
    return {name: trade_stats(group) for name, group in sorted(groups.items())}


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None
