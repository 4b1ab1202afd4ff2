"""Backtest runs: a replay of bars or of stored ticks through one BacktestSession.

Bars. Each bar start is one step: the step's bars are played as prints (app.marketdata.prints),
then time moves to the bars' end, which closes them in the shard; what they signal is decided
at that instant and goes to the venue, where it meets the next bar's open print. So an order a
bar triggers fills at the next bar's open (plus slippage), or later in that bar when a limit
or the venue's participation cap holds it back. Exits are decided on the closed bars.

Ticks. The stored ticks of each New York date are played one by one, exactly as the monolith's
shard and venue feeder see them (with 1 s exit bars); bars close as the shard's data time
passes their end.

Days. Without `carry` nothing is held overnight: exits for every open lot go out at the day's
last bar (its start in bars mode, the last regular-session bar in ticks mode) and no entry is
taken from then on (with ticks, when a day's data ends before that minute, the exits go out
at its end and find no print to fill on: what was open is reported open). With `carry`,
positions stay open across sessions. Either way, orders still working when the day's data
ends expire with the day (they are DAY orders), and no entry is decided at the very end of a
day, when nothing could fill it.

The same inputs and seed give the same result: time is the replay's, ids are sequential, and
the only randomness (which extreme a flat bar visits first) comes from the seed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from app.backtest.adjust import adjust_ticks
from app.backtest.bars import NS, BarTable
from app.backtest.metrics import EquityPoint, Summary, summarize
from app.backtest.session import BacktestSession
from app.backtest.setup import CoreSetup
from app.domain.calendar import (
    is_trading_day,
    local_time_ns,
    session_close_ns,
    session_open_ns,
    trading_day,
)
from app.domain.corporate_action import Split
from app.domain.market import Tick
from app.domain.position import Lot
from app.persistence.backtests import BacktestTrade
from app.ports.tickstore import TickStore
from app.strategies.base import Strategy

Progress = Callable[[int, int], None]
"""Called with (done, total): bars replayed of all bars, or days of all days for ticks."""


@dataclass(frozen=True, slots=True)
class RunCounts:
    ticks: int
    bars: int
    decisions: int
    rejected: int
    orders: int
    fills: int
    skipped_entries: int


@dataclass(frozen=True, slots=True)
class BacktestResult:
    first_day: dt.date | None
    last_day: dt.date | None
    trades: list[BacktestTrade]
    curve: list[EquityPoint]
    open_lots: list[Lot]
    counts: RunCounts
    summary: Summary


def run_bars(
    table: BarTable,
    *,
    strategies: Sequence[Strategy],
    setup: CoreSetup,
    carry: bool,
    seed: int,
    progress: Progress | None = None,
) -> BacktestResult:
    """Replay a bar table (already split-adjusted and cut to the period)."""
    first = int(table.ts[0]) if len(table) else 0
    session = BacktestSession(
        strategies=strategies,
        setup=setup,
        interval_s=table.interval_s,
        tick_input=False,
        start_ns=first,
        seed=seed,
    )
    return replay_bars(session, table, carry=carry, progress=progress)


def replay_bars(
    session: BacktestSession,
    table: BarTable,
    *,
    carry: bool,
    progress: Progress | None = None,
) -> BacktestResult:
    """Drive a session built for bar input through the table (see the module docstring)."""
    interval_ns = table.interval_s * NS
    starts = np.unique(table.ts).tolist()
    days = [trading_day(start) for start in starts]
    if starts:
        session.sample(starts[0])
    done, previous_end = 0, None
    for k, (start, bars) in enumerate(table.steps()):
        if start != previous_end:
            session.boundary(start)
        session.bar_step(start, bars)
        end = previous_end = start + interval_ns
        final = k + 1 == len(starts) or days[k + 1] != days[k]
        penultimate = not final and (k + 2 == len(starts) or days[k + 2] != days[k + 1])
        flattening = penultimate and not carry
        session.boundary(end, entries=not (final or flattening))
        if flattening:
            session.flatten(end)
        session.sample(end)
        if final:
            session.end_of_day(end)
        done += len(bars)
        if progress is not None:
            progress(done, len(table))
    return _result(session, days[0] if days else None, days[-1] if days else None)


async def run_ticks(
    store: TickStore,
    *,
    days: Sequence[dt.date],
    strategies: Sequence[Strategy],
    setup: CoreSetup,
    interval_s: int,
    carry: bool,
    seed: int,
    symbols: Collection[str] | None = None,
    splits: Mapping[str, Sequence[Split]] | None = None,
    progress: Progress | None = None,
) -> BacktestResult:
    """Replay the stored ticks of these New York dates (split-adjusted with `splits`)."""
    trading = [day for day in days if is_trading_day(day)]
    interval_ns = interval_s * NS
    session = BacktestSession(
        strategies=strategies,
        setup=setup,
        interval_s=interval_s,
        tick_input=True,
        start_ns=local_time_ns(trading[0], 0) if trading else 0,
        seed=seed,
    )
    if trading:
        session.sample(local_time_ns(trading[0], 0))
    for k, day in enumerate(trading):
        start, end = local_time_ns(day, 0), local_time_ns(day + dt.timedelta(days=1), 0)
        flatten_at = session_close_ns(day) - interval_ns
        entries = True
        next_sample: int | None = None
        last_ns = start
        async for batch in store.read(start_ns=start, end_ns=end, symbols=symbols):
            for tick in adjust_ticks(batch, splits or {}):
                ts = tick.ts_ns
                if next_sample is None:
                    next_sample = ts - ts % interval_ns + interval_ns
                while ts >= next_sample:
                    session.sample(next_sample)
                    next_sample += interval_ns
                if entries and not carry and ts >= flatten_at:
                    session.flatten(flatten_at)
                    entries = False
                session.prints([tick], entries=entries)
                last_ns = ts
        day_end = last_ns - last_ns % interval_ns + interval_ns
        session.boundary(day_end, entries=False)
        if entries and not carry:
            session.flatten(day_end)
        session.sample(day_end)
        session.end_of_day(day_end)
        if progress is not None:
            progress(k + 1, len(trading))
    return _result(session, trading[0] if trading else None, trading[-1] if trading else None)


def _result(
    session: BacktestSession, first: dt.date | None, last: dt.date | None
) -> BacktestResult:
    trades = list(session.trades.closed)
    return BacktestResult(
        first_day=first,
        last_day=last,
        trades=trades,
        curve=list(session.curve),
        open_lots=session.open_lots(),
        counts=RunCounts(
            ticks=session.shard.ticks,
            bars=session.shard.bars,
            decisions=session.decisions,
            rejected=session.rejected,
            orders=session.orders,
            fills=session.fills,
            skipped_entries=session.skipped_entries,
        ),
        summary=summarize(start_equity=session.starting_cash, curve=session.curve, trades=trades),
    )


async def run_lockstep(
    store: TickStore,
    *,
    day: dt.date,
    step_ns: int,
    strategies: Sequence[Strategy],
    setup: CoreSetup,
    seed: int,
) -> BacktestSession:
    """Replay one session's recorded ticks in the lockstep monolith's data steps (from the
    open, each step taking the prints with start < ts <= end), so the result can be held
    against that paper session's ledger decision by decision, order by order, fill by fill.
    The session, with its journal, is returned as is: nothing is flattened at the close."""
    if step_ns <= 0:
        raise ValueError(f"step_ns must be positive, got {step_ns}")
    open_ns = session_open_ns(day)
    session = BacktestSession(
        strategies=strategies,
        setup=setup,
        interval_s=60,
        tick_input=True,
        start_ns=open_ns,
        seed=seed,
        journal=True,
    )
    end = open_ns + step_ns
    pending: list[Tick] = []
    async for batch in store.read(start_ns=open_ns, end_ns=session_close_ns(day) + 1):
        for tick in batch:
            while tick.ts_ns > end:
                session.lockstep(pending, start_ns=end - step_ns, end_ns=end)
                pending = []
                end += step_ns
            pending.append(tick)
    session.lockstep(pending, start_ns=end - step_ns, end_ns=end)
    return session
