"""Session clock indicators: minutes since the open and the gap from the prior close.

Both use the bar's New York trading date (trading_day.py); neither needs any warm-up beyond the
data itself, so their lookback is None (readiness depends on timestamps).

* MinutesSinceOpen: (bar start - 09:30 New York on the bar's date) in minutes; negative in the
  pre-market. Ready from the first bar.
* GapPct: percent gap from the prior close, the close of the last bar that started before 16:00
  New York on an earlier date (a date without such a bar keeps the older prior close). Before
  09:30 it is the live pre-market gap of the bar's close; from the first bar at or after 09:30 it
  is the gap of that bar's open, fixed for the rest of the date. Ready from the first bar that
  has a prior close.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.domain.market import Bar
from app.indicators.spec import (
    NAN,
    VALUE,
    BatchContext,
    FloatArray,
    IndicatorSpec,
    Step,
    StepContext,
)
from app.indicators.trading_day import NS_PER_MINUTE


@dataclass(frozen=True, slots=True, eq=False)
class MinutesSinceOpen(IndicatorSpec):
    """Minutes from 09:30 New York to the bar's start (negative before the open)."""

    name = "minutes_since_open"

    @property
    def lookback(self) -> None:
        return None

    def incremental(self, ctx: StepContext) -> Step:
        values, ready, slot, flag = ctx.values, ctx.ready, ctx.slot(), ctx.flag
        calendar = ctx.calendar
        day_start = day_end = open_ns = 0

        def step(bar: Bar) -> None:
            nonlocal day_start, day_end, open_ns
            ts = bar.ts_ns
            if ts >= day_end or ts < day_start:
                day_start, open_ns, _, day_end = calendar.bounds(ts)
                ready[flag] = True
            values[slot] = (ts - open_ns) / NS_PER_MINUTE

        return step

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        since = (ctx.bars.ts - ctx.days.open_ns).astype(np.float64)
        return {VALUE: since / NS_PER_MINUTE}


@dataclass(frozen=True, slots=True, eq=False)
class GapPct(IndicatorSpec):
    """Percent gap from the prior session's close (live before the open, fixed after)."""

    name = "gap_pct"

    @property
    def lookback(self) -> None:
        return None

    def incremental(self, ctx: StepContext) -> Step:
        values, ready, slot, flag = ctx.values, ctx.ready, ctx.slot(), ctx.flag
        calendar = ctx.calendar
        day_start = day_end = open_ns = close_ns = 0
        prior_close = today_close = opening = NAN

        def step(bar: Bar) -> None:
            nonlocal day_start, day_end, open_ns, close_ns, prior_close, today_close, opening
            ts = bar.ts_ns
            if ts >= day_end or ts < day_start:
                day_start, open_ns, close_ns, day_end = calendar.bounds(ts)
                if today_close == today_close:
                    prior_close = today_close
                today_close = opening = NAN
            if ts < close_ns:
                today_close = bar.close
            if prior_close != prior_close:
                return
            if ts < open_ns:
                values[slot] = 100.0 * (bar.close - prior_close) / prior_close
            else:
                if opening != opening:
                    opening = 100.0 * (bar.open - prior_close) / prior_close
                values[slot] = opening
            if not ready[flag]:
                ready[flag] = True

        return step

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        bars, days = ctx.bars, ctx.days
        ts, size = bars.ts, bars.ts.size
        if size == 0:
            return {VALUE: np.empty(0)}
        date_rows = np.flatnonzero(days.first == np.arange(size))
        # Per date: its last bar that started before 16:00 (-1 if none), carried forward over
        # dates without one; a date's prior close is what was carried up to the date before.
        last_before_close = np.searchsorted(ts, days.close_ns[date_rows], side="left") - 1
        last_before_close[last_before_close < date_rows] = -1
        np.maximum.accumulate(last_before_close, out=last_before_close)
        source = np.concatenate(([-1], last_before_close[:-1]))
        prior_by_date = bars.close[source]
        prior_by_date[source < 0] = np.nan
        prior_close = prior_by_date[days.day]
        first_open = np.searchsorted(ts, days.open_ns[date_rows], side="left")
        opening_price = bars.open[np.minimum(first_open, size - 1)][days.day]
        price = np.where(ts >= days.open_ns, opening_price, bars.close)
        return {VALUE: 100.0 * (price - prior_close) / prior_close}
