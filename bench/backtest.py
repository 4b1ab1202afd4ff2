"""Backtest benchmark (a script, not a test): bars per second through the full trading core.

    PYTHONPATH=. .venv/bin/python bench/backtest.py          # readable table
    PYTHONPATH=. .venv/bin/python bench/backtest.py --json   # machine-readable figures

Dataset: 100 symbols x 390 one-minute bars x 20 trading days (780,000 bars), a seeded random
walk with occasional volume spikes, generated in memory. Cases, each in its own process so
its peak RSS is its own:

* floor: the SMA(10)/SMA(30) crossover as a minimal plain-Python loop (deques, running sums,
  fills at the next bar's open), no core at all: what the interpreter costs for the logic;
* sma_cross: the same strategy as a Strategy through the full core (BacktestSession: each bar
  played as four prints to the venue and the fast-mover detector and aggregated whole by the
  shard, ShardEngine with detection and indicators, ExecutionEngine with arbitration and the
  risk chain, SimVenue fills), long-only, a fixed $5,000 per entry, at the next bar's open;
  the arbiter's correlation guard is off (the floor has none; it would refuse entries);
* suite: the catalog's built-in strategies, all ten, the same way, with the default
  arbitration (correlation guard on).

Figures: bars/s over the replay (dataset generation excluded), peak RSS of the process, trades.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import platform
import resource
import subprocess
import sys
import time
from collections import deque
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np

from app.backtest.bars import BarTable
from app.backtest.runner import replay_bars
from app.backtest.session import BacktestSession
from app.backtest.strategies import select_strategies
from app.cli.backtest import execution_setup
from app.domain.calendar import next_trading_day, session_open_ns, trading_day
from app.domain.detection import ANY_SYMBOL
from app.domain.ids import signal_dedup_key
from app.domain.market import Bar
from app.domain.position import Lot
from app.domain.signal import Side, Signal, SignalKind
from app.exits.config import ExitConfig, Target
from app.indicators import SMA, IndicatorSet, Ref
from app.settings import ArbitrationSettings, RiskSettings, Settings, SimSettings

SYMBOLS, BARS_PER_DAY, DAYS, SEED = 100, 390, 20, 20260302
FIRST_DAY = dt.date(2026, 3, 2)
MINUTE_NS = 60_000_000_000
NOTIONAL = 5_000.0
CASES = ("floor", "sma_cross", "suite")


def dataset(symbols: int = SYMBOLS, days: int = DAYS, seed: int = SEED) -> BarTable:
    """Deterministic one-minute bars: a random walk per symbol, spikes of volume and range."""
    rng = np.random.default_rng(seed)
    starts: list[int] = []
    day = FIRST_DAY
    for _ in range(days):
        open_ns = session_open_ns(day)
        starts.extend(open_ns + k * MINUTE_NS for k in range(BARS_PER_DAY))
        day = next_trading_day(day)
    steps = len(starts)
    shocks = rng.normal(0.0, 0.0015, (steps, symbols))
    spikes = rng.random((steps, symbols)) < 0.004
    shocks += spikes * rng.normal(0.01, 0.004, (steps, symbols))
    close = rng.uniform(3.0, 40.0, symbols) * np.exp(np.cumsum(shocks, axis=0))
    open_ = np.vstack([close[:1] / np.exp(shocks[:1]), close[:-1]])
    wick = rng.uniform(0.0, 0.002, (2, steps, symbols))
    high = np.maximum(open_, close) * (1 + wick[0])
    low = np.minimum(open_, close) * (1 - wick[1])
    volume = rng.integers(2_000, 20_000, (steps, symbols)) * (1 + 4 * spikes)
    names = [f"S{i:03d}" for i in range(symbols)]
    return BarTable.of(
        symbols=names * steps,
        ts=np.repeat(np.asarray(starts, dtype=np.int64), symbols),
        open_=open_.ravel(),
        high=high.ravel(),
        low=low.ravel(),
        close=close.ravel(),
        volume=volume.ravel().astype(np.int64),
        interval_s=60,
    )


class SmaCross:
    """Long when SMA(10) crosses above SMA(30), out when it crosses back below; no stop or
    target of its own (they sit far away), so the crossover alone trades."""

    name = "sma_cross"
    priority = 10
    interval_s = 60
    accepts = ANY_SYMBOL
    exit = ExitConfig(
        stop_pct=50.0,
        targets=(Target(500.0, 1.0),),
        max_hold_s=30 * 86_400,
        flatten_before_close_s=None,
    )

    def __init__(self) -> None:
        self._fast, self._slow = SMA(10), SMA(30)
        self._above: dict[str, bool] = {}

    @property
    def indicators(self) -> tuple[Ref, ...]:
        return (self._fast, self._slow)

    def on_bar(self, bar: Bar, ind: IndicatorSet, lots: Sequence[Lot]) -> Signal | None:
        fast, slow = ind.value(self._fast), ind.value(self._slow)
        if math.isnan(fast) or math.isnan(slow):  # warming up
            return None
        above = fast > slow
        was = self._above.get(bar.symbol)
        self._above[bar.symbol] = above
        if was is None or above == was:
            return None
        if above and not lots:
            return Signal(
                strategy=self.name,
                symbol=bar.symbol,
                side=Side.BUY,
                kind=SignalKind.ENTRY,
                ts_ns=bar.end_ns,
                price=bar.close,
                dedup_key=signal_dedup_key(
                    strategy=self.name, symbol=bar.symbol, side="buy", bar_ts_ns=bar.ts_ns
                ),
                stop_price=bar.close * 0.5,
                reason="cross_up: sma10 over sma30",
            )
        if not above and lots:
            return Signal(
                strategy=self.name,
                symbol=bar.symbol,
                side=Side.SELL,
                kind=SignalKind.EXIT,
                ts_ns=bar.end_ns,
                price=bar.close,
                dedup_key=f"{self.name}|{lots[0].entry_order_id}|cross_down|{bar.ts_ns}",
                reason="cross_down",
                closes=lots[0].entry_order_id,
            )
        return None


def _settings(*, correlation_guard: bool) -> Settings:
    """Room for a position in every symbol, a fixed $5,000 each (the value cap binds)."""
    return Settings(
        arbitration=ArbitrationSettings(correlation_threshold=0.9 if correlation_guard else None),
        risk=RiskSettings(
            risk_per_trade_pct=Decimal("10"),
            max_position_value=Decimal(str(NOTIONAL)),
            max_exposure=Decimal("1000000"),
            max_symbol_exposure=Decimal("1000000"),
            max_trade_risk=Decimal("1000000"),
            strategy_capital=None,
            max_open_positions=1_000,
            daily_loss_limit=Decimal("1000000"),
            max_drawdown=None,
            global_max_drawdown=None,
            loss_streak=0,
        ),
        sim=SimSettings(
            latency_ms=0,
            slippage_bps=Decimal("5"),
            participation=Decimal("1"),
            buying_power_multiplier=Decimal("4"),
        ),
    )


def floor(table: BarTable) -> tuple[int, int]:
    """(bars, trades) of the crossover as a bare loop: per symbol two deques and running sums,
    an order at the bar close filled at the next bar's open; flat at each day's last bar."""
    state: dict[str, list[Any]] = {}
    trades = 0
    bars = 0
    days = [trading_day(ts) for ts in np.unique(table.ts).tolist()]
    last_of_day = {i for i in range(len(days)) if i + 1 == len(days) or days[i + 1] != days[i]}
    for k, (_, rows) in enumerate(table.steps()):
        for bar in rows:
            bars += 1
            s = state.get(bar.symbol)
            if s is None:
                s = state[bar.symbol] = [deque(), 0.0, deque(), 0.0, None, 0, 0.0]
            fast, fsum, slow, ssum, above, pending, qty = s
            if pending:  # fill at this bar's open
                qty = NOTIONAL // bar.open if pending > 0 else 0.0
                trades += pending < 0
                pending = 0
            fast.append(bar.close)
            fsum += bar.close
            if len(fast) > 10:
                fsum -= fast.popleft()
            slow.append(bar.close)
            ssum += bar.close
            if len(slow) > 30:
                ssum -= slow.popleft()
            if len(slow) == 30:
                now_above = fsum / 10 > ssum / 30
                if above is not None and now_above != above:
                    pending = 1 if now_above and not qty else (-1 if qty else 0)
                above = now_above
            if k in last_of_day and qty:
                trades += 1
                qty, pending = 0.0, 0
            s[1], s[3], s[4], s[5], s[6] = fsum, ssum, above, pending, qty
    return bars, trades


def _case(name: str) -> dict[str, Any]:
    table = dataset()
    started = time.perf_counter()
    if name == "floor":
        bars, trades = floor(table)
    else:
        crossover = name.startswith("sma_cross")
        strategies = [SmaCross()] if crossover else select_strategies([], {})
        setup = execution_setup(_settings(correlation_guard=not crossover))
        session = BacktestSession(
            strategies=strategies,
            setup=setup,
            interval_s=60,
            tick_input=False,
            start_ns=int(table.ts[0]),
            seed=1,
        )
        result = replay_bars(session, table, carry=False)
        bars, trades = result.counts.bars, len(result.trades)
    elapsed = time.perf_counter() - started
    return {
        "case": name,
        "bars": bars,
        "seconds": round(elapsed, 2),
        "bars_per_s": round(bars / elapsed),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "trades": trades,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print figures as JSON")
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(_case(args.case)))
        return
    figures = []
    for case in CASES:
        child = subprocess.run(
            [sys.executable, __file__, "--case", case], check=True, capture_output=True, text=True
        )
        figures.append(json.loads(child.stdout.strip().splitlines()[-1]))
    report = {
        "dataset": {"symbols": SYMBOLS, "bars_per_day": BARS_PER_DAY, "days": DAYS, "seed": SEED},
        "python": platform.python_version(),
        "cases": figures,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{SYMBOLS} symbols x {BARS_PER_DAY} bars x {DAYS} days, Python {report['python']}")
    print(f"{'case':<20} {'bars':>9} {'s':>8} {'bars/s':>9} {'peak RSS MB':>12} {'trades':>7}")
    for f in figures:
        print(
            f"{f['case']:<20} {f['bars']:>9,} {f['seconds']:>8} {f['bars_per_s']:>9,} "
            f"{f['peak_rss_mb']:>12,} {f['trades']:>7,}"
        )


if __name__ == "__main__":
    main()
