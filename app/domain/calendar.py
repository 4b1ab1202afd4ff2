"""The US equities trading calendar, in America/New_York time.

Sessions: PRE 04:00-09:30, REGULAR 09:30-16:00, POST 16:00-20:00, CLOSED otherwise and all day
on weekends and NYSE holidays. On early-close days the regular session ends at 13:00 and the
post-market session at 17:00. Holidays are computed by rule (plus the few unscheduled closures
since 2001), so the calendar needs no data file and works for any year from 1998 on.

Everything here is pure; per-date results are cached.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import NamedTuple
from zoneinfo import ZoneInfo

from app.domain.market import Session

NS_PER_SECOND = 1_000_000_000
_NS_PER_US = 1_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MON, _THU, _FRI, _SAT, _SUN = 0, 3, 4, 5, 6
_ONE_DAY = dt.timedelta(days=1)
_JUNETEENTH_FROM = 2022

_UNSCHEDULED_CLOSURES = frozenset(
    {
        dt.date(2001, 9, 11),
        dt.date(2001, 9, 12),
        dt.date(2001, 9, 13),
        dt.date(2001, 9, 14),
        dt.date(2004, 6, 11),
        dt.date(2007, 1, 2),
        dt.date(2012, 10, 29),
        dt.date(2012, 10, 30),
        dt.date(2018, 12, 5),
        dt.date(2025, 1, 9),
    }
)


class SessionSpan(NamedTuple):
    """The session a timestamp falls in, and the [start_ns, end_ns) stretch it covers."""

    session: Session
    start_ns: int
    end_ns: int


class _DaySchedule(NamedTuple):
    midnight_ns: int
    pre_ns: int
    open_ns: int
    close_ns: int
    post_ns: int
    next_midnight_ns: int
    trading: bool


@functools.cache
def _new_york() -> ZoneInfo:
    return ZoneInfo("America/New_York")


def new_york_text(ts_ns: int) -> str:
    """A moment as New York wall time, for messages people read."""
    moment = dt.datetime.fromtimestamp(ts_ns / 1e9, tz=_new_york())
    return f"{moment:%Y-%m-%d %H:%M:%S} ET"


def local_time_ns(day: dt.date, hour: int, minute: int = 0) -> int:
    """New York wall-clock time `hour:minute` on `day`, as ns since the epoch (DST-aware)."""
    local = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=_new_york())
    return ((local - _EPOCH) // dt.timedelta(microseconds=1)) * _NS_PER_US


def trading_day(ts_ns: int) -> dt.date:
    """The New York calendar date of a timestamp."""
    seconds = ts_ns // NS_PER_SECOND
    return dt.datetime.fromtimestamp(seconds, tz=_new_york()).date()


def easter_sunday(year: int) -> dt.date:
    """Western (Gregorian) Easter Sunday, by the anonymous Gregorian computus."""
    golden = year % 19
    century, year_of_century = divmod(year, 100)
    leap_centuries, century_rest = divmod(century, 4)
    lunar_correction = (century + 8) // 25
    solar_correction = (century - lunar_correction + 1) // 3
    epact = (19 * golden + century - leap_centuries - solar_correction + 15) % 30
    leap_years, year_rest = divmod(year_of_century, 4)
    weekday_offset = (32 + 2 * century_rest + 2 * leap_years - epact - year_rest) % 7
    correction = (golden + 11 * epact + 22 * weekday_offset) // 451
    month, day = divmod(epact + weekday_offset - 7 * correction + 114, 31)
    return dt.date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> dt.date:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    last = following - _ONE_DAY
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: dt.date) -> dt.date:
    """Saturday holidays are observed on Friday, Sunday ones on Monday."""
    if day.weekday() == _SAT:
        return day - _ONE_DAY
    if day.weekday() == _SUN:
        return day + _ONE_DAY
    return day


@functools.cache
def nyse_holidays(year: int) -> frozenset[dt.date]:
    """Full-day NYSE closures in `year` (weekdays only), including unscheduled ones."""
    new_year = dt.date(year, 1, 1)
    days = {
        _nth_weekday(year, 1, _MON, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, _MON, 3),  # Washington's Birthday
        easter_sunday(year) - 2 * _ONE_DAY,  # Good Friday
        _last_weekday(year, 5, _MON),  # Memorial Day
        _observed(dt.date(year, 7, 4)),  # Independence Day
        _nth_weekday(year, 9, _MON, 1),  # Labor Day
        _nth_weekday(year, 11, _THU, 4),  # Thanksgiving
        _observed(dt.date(year, 12, 25)),  # Christmas
    }
    if new_year.weekday() != _SAT:  # a Saturday New Year's Day is not observed on Dec 31
        days.add(_observed(new_year))
    if year >= _JUNETEENTH_FROM:
        days.add(_observed(dt.date(year, 6, 19)))
    days.update(d for d in _UNSCHEDULED_CLOSURES if d.year == year)
    return frozenset(days)


def is_trading_day(day: dt.date) -> bool:
    return day.weekday() < _SAT and day not in nyse_holidays(day.year)


def is_early_close(day: dt.date) -> bool:
    """Regular session ends at 13:00: day after Thanksgiving, July 3 and Christmas Eve."""
    if not is_trading_day(day):
        return False
    black_friday = _nth_weekday(day.year, 11, _THU, 4) + _ONE_DAY
    return day in (black_friday, dt.date(day.year, 7, 3), dt.date(day.year, 12, 24))


@functools.lru_cache(maxsize=4096)
def _schedule(day: dt.date) -> _DaySchedule:
    midnight = local_time_ns(day, 0)
    next_midnight = local_time_ns(day + _ONE_DAY, 0)
    if not is_trading_day(day):
        return _DaySchedule(
            midnight, midnight, midnight, midnight, midnight, next_midnight, trading=False
        )
    close_hour = 13 if is_early_close(day) else 16
    return _DaySchedule(
        midnight_ns=midnight,
        pre_ns=local_time_ns(day, 4),
        open_ns=local_time_ns(day, 9, 30),
        close_ns=local_time_ns(day, close_hour),
        post_ns=local_time_ns(day, close_hour + 4),
        next_midnight_ns=next_midnight,
        trading=True,
    )


def session_span(ts_ns: int) -> SessionSpan:
    """The session of `ts_ns` with its bounds; callers cache it to skip lookups per tick."""
    s = _schedule(trading_day(ts_ns))
    if not s.trading:
        return SessionSpan(Session.CLOSED, s.midnight_ns, s.next_midnight_ns)
    if ts_ns < s.pre_ns:
        return SessionSpan(Session.CLOSED, s.midnight_ns, s.pre_ns)
    if ts_ns < s.open_ns:
        return SessionSpan(Session.PRE, s.pre_ns, s.open_ns)
    if ts_ns < s.close_ns:
        return SessionSpan(Session.REGULAR, s.open_ns, s.close_ns)
    if ts_ns < s.post_ns:
        return SessionSpan(Session.POST, s.close_ns, s.post_ns)
    return SessionSpan(Session.CLOSED, s.post_ns, s.next_midnight_ns)


def session_of(ts_ns: int) -> Session:
    return session_span(ts_ns).session


def _require_trading_day(day: dt.date) -> _DaySchedule:
    schedule = _schedule(day)
    if not schedule.trading:
        raise ValueError(f"{day.isoformat()} is not a trading day")
    return schedule


def session_open_ns(day: dt.date) -> int:
    """09:30 New York time on a trading day; ValueError on other days."""
    return _require_trading_day(day).open_ns


def session_close_ns(day: dt.date) -> int:
    """16:00 (13:00 on early-close days) New York time on a trading day; ValueError otherwise."""
    return _require_trading_day(day).close_ns


def previous_trading_day(day: dt.date) -> dt.date:
    """The last trading day strictly before `day`."""
    day -= _ONE_DAY
    while not is_trading_day(day):
        day -= _ONE_DAY
    return day


def next_trading_day(day: dt.date) -> dt.date:
    """The first trading day strictly after `day`."""
    day += _ONE_DAY
    while not is_trading_day(day):
        day += _ONE_DAY
    return day
