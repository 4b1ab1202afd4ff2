"""New York trading days for session indicators (VWAP, gap, minutes since open, relative volume).

A bar belongs to the America/New_York calendar date its start falls on; that day's regular
session opens at 09:30 and closes at 16:00 (13:00 on early-close days), daylight saving
included, as app.domain.calendar says; per-date results are memoized on the instance.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from app.domain.calendar import is_trading_day, local_time_ns, session_close_ns, trading_day
from app.indicators.arrays import IntArray

NS_PER_SECOND = 1_000_000_000
NS_PER_MINUTE = 60 * NS_PER_SECOND
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_ONE_DAY = dt.timedelta(days=1)
_MICROSECOND = dt.timedelta(microseconds=1)


class DayBounds(NamedTuple):
    """One New York date, as ns since the epoch: [start, end) is the whole calendar day."""

    start_ns: int
    open_ns: int
    close_ns: int
    end_ns: int


@dataclass(frozen=True, slots=True)
class DayIndex:
    """Per-bar trading-day facts for a whole series (all arrays have one entry per bar)."""

    day: IntArray
    """0-based rank of the bar's New York date among the dates present in the series."""
    start_ns: IntArray
    open_ns: IntArray
    close_ns: IntArray
    first: IntArray
    """Index of the first bar of the same date."""


class NewYorkCalendar:
    """Maps timestamps to New York dates and their session open / close (app.domain.calendar:
    09:30, and 16:00 or the early close), memoized per date on the instance."""

    __slots__ = ("_memo",)

    def __init__(self) -> None:
        self._memo: dict[dt.date, DayBounds] = {}

    def date_of(self, ts_ns: int) -> dt.date:
        return trading_day(ts_ns)

    def day(self, day: dt.date) -> DayBounds:
        bounds = self._memo.get(day)
        if bounds is None:
            bounds = DayBounds(
                start_ns=local_time_ns(day, 0),
                open_ns=local_time_ns(day, 9, 30),
                close_ns=session_close_ns(day) if is_trading_day(day) else local_time_ns(day, 16),
                end_ns=local_time_ns(day + _ONE_DAY, 0),
            )
            self._memo[day] = bounds
        return bounds

    def bounds(self, ts_ns: int) -> DayBounds:
        """The New York date `ts_ns` falls on."""
        return self.day(self.date_of(ts_ns))

    def index(self, ts: IntArray) -> DayIndex:
        """Vectorized `bounds` for non-decreasing timestamps: one zoneinfo lookup per date."""
        if ts.size == 0:
            empty = np.zeros(0, dtype=np.int64)
            return DayIndex(empty, empty, empty, empty, empty)
        first_day = self.date_of(int(ts[0]))
        n_days = (self.date_of(int(ts[-1])) - first_day).days + 1
        days = [self.day(first_day + dt.timedelta(days=i)) for i in range(n_days)]
        starts = np.array([d.start_ns for d in days], dtype=np.int64)
        opens = np.array([d.open_ns for d in days], dtype=np.int64)
        closes = np.array([d.close_ns for d in days], dtype=np.int64)
        # ts is sorted: find where each date starts in it, then label the runs in between.
        edges = np.searchsorted(ts, starts, side="left")
        edges[0] = 0
        number = np.repeat(np.arange(n_days, dtype=np.int64), np.diff(edges, append=ts.size))
        new_day = np.empty(ts.size, dtype=bool)
        new_day[0] = True
        np.not_equal(number[1:], number[:-1], out=new_day[1:])
        first_rows = np.flatnonzero(new_day)
        rank = np.cumsum(new_day, dtype=np.int64) - 1
        return DayIndex(
            day=rank,
            start_ns=starts[number],
            open_ns=opens[number],
            close_ns=closes[number],
            first=first_rows[rank],
        )
