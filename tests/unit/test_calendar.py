from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain import calendar as cal
from app.domain.market import Session

NS = 1_000_000_000
NY = ZoneInfo("America/New_York")
HOUR = 3_600 * NS


def utc_ns(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC).timestamp()) * NS


def dates(isos: str) -> frozenset[dt.date]:
    return frozenset(dt.date.fromisoformat(iso) for iso in isos.split())


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2019, dt.date(2019, 4, 21)),
        (2024, dt.date(2024, 3, 31)),
        (2025, dt.date(2025, 4, 20)),
        (2026, dt.date(2026, 4, 5)),
        (2027, dt.date(2027, 3, 28)),
        (2038, dt.date(2038, 4, 25)),
        (2285, dt.date(2285, 3, 22)),
    ],
)
def test_easter(year: int, expected: dt.date) -> None:
    assert cal.easter_sunday(year) == expected


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        # before Juneteenth; Independence Day on Saturday -> Friday July 3
        (2020, "01-01 01-20 02-17 04-10 05-25 07-03 09-07 11-26 12-25"),
        # Independence Day on Sunday -> Monday; Christmas on Saturday -> Friday
        (2021, "01-01 01-18 02-15 04-02 05-31 07-05 09-06 11-25 12-24"),
        # New Year's Day on Saturday is not observed; Juneteenth on Sunday -> Monday
        (2022, "01-17 02-21 04-15 05-30 06-20 07-04 09-05 11-24 12-26"),
        (2024, "01-01 01-15 02-19 03-29 05-27 06-19 07-04 09-02 11-28 12-25"),
        # including the unscheduled closure of January 9
        (2025, "01-01 01-09 01-20 02-17 04-18 05-26 06-19 07-04 09-01 11-27 12-25"),
        (2026, "01-01 01-19 02-16 04-03 05-25 06-19 07-03 09-07 11-26 12-25"),
        # Juneteenth on Saturday -> Friday
        (2027, "01-01 01-18 02-15 03-26 05-31 06-18 07-05 09-06 11-25 12-24"),
    ],
)
def test_nyse_holidays(year: int, expected: str) -> None:
    assert cal.nyse_holidays(year) == dates(" ".join(f"{year}-{md}" for md in expected.split()))


def test_trading_days_skip_weekends_and_holidays() -> None:
    assert cal.is_trading_day(dt.date(2026, 7, 2))
    assert not cal.is_trading_day(dt.date(2026, 7, 3))  # observed Independence Day
    assert not cal.is_trading_day(dt.date(2026, 7, 4))  # Saturday
    assert cal.next_trading_day(dt.date(2026, 7, 2)) == dt.date(2026, 7, 6)
    assert cal.previous_trading_day(dt.date(2026, 7, 6)) == dt.date(2026, 7, 2)
    assert cal.previous_trading_day(dt.date(2026, 1, 2)) == dt.date(2025, 12, 31)
    assert cal.next_trading_day(dt.date(2026, 11, 25)) == dt.date(2026, 11, 27)
    assert cal.next_trading_day(dt.date(2021, 12, 23)) == dt.date(2021, 12, 27)


@pytest.mark.parametrize(
    ("day", "early"),
    [
        (dt.date(2025, 7, 3), True),
        (dt.date(2025, 11, 28), True),
        (dt.date(2025, 12, 24), True),
        (dt.date(2026, 11, 27), True),
        (dt.date(2026, 12, 24), True),
        (dt.date(2026, 7, 3), False),  # a holiday, not a half day
        (dt.date(2026, 7, 2), False),
        (dt.date(2021, 12, 24), False),  # observed Christmas
        (dt.date(2022, 12, 23), False),
    ],
)
def test_early_closes(day: dt.date, early: bool) -> None:
    assert cal.is_early_close(day) is early


def test_sessions_of_a_regular_day_in_daylight_time() -> None:
    # Tuesday 2026-03-10, New York is UTC-4
    assert cal.session_of(utc_ns(2026, 3, 10, 7, 59)) is Session.CLOSED
    assert cal.session_of(utc_ns(2026, 3, 10, 8, 0)) is Session.PRE
    assert cal.session_of(utc_ns(2026, 3, 10, 13, 30) - 1) is Session.PRE
    assert cal.session_of(utc_ns(2026, 3, 10, 13, 30)) is Session.REGULAR
    assert cal.session_of(utc_ns(2026, 3, 10, 20, 0) - 1) is Session.REGULAR
    assert cal.session_of(utc_ns(2026, 3, 10, 20, 0)) is Session.POST
    assert cal.session_of(utc_ns(2026, 3, 11, 0, 0)) is Session.CLOSED
    span = cal.session_span(utc_ns(2026, 3, 10, 15, 0))
    assert span == cal.SessionSpan(
        Session.REGULAR, utc_ns(2026, 3, 10, 13, 30), utc_ns(2026, 3, 10, 20, 0)
    )


def test_sessions_around_the_dst_transitions() -> None:
    # 09:30 New York is 14:30 UTC in standard time and 13:30 UTC in daylight time
    assert cal.local_time_ns(dt.date(2026, 3, 8), 9, 30) == utc_ns(2026, 3, 8, 13, 30)
    assert cal.local_time_ns(dt.date(2026, 11, 1), 9, 30) == utc_ns(2026, 11, 1, 14, 30)
    assert cal.local_time_ns(dt.date(2026, 3, 7), 9, 30) == utc_ns(2026, 3, 7, 14, 30)
    assert cal.local_time_ns(dt.date(2026, 10, 31), 9, 30) == utc_ns(2026, 10, 31, 13, 30)
    assert cal.session_open_ns(dt.date(2026, 3, 6)) == utc_ns(2026, 3, 6, 14, 30)
    assert cal.session_open_ns(dt.date(2026, 3, 9)) == utc_ns(2026, 3, 9, 13, 30)
    assert cal.session_open_ns(dt.date(2026, 10, 30)) == utc_ns(2026, 10, 30, 13, 30)
    assert cal.session_open_ns(dt.date(2026, 11, 2)) == utc_ns(2026, 11, 2, 14, 30)
    assert cal.session_of(utc_ns(2026, 3, 9, 13, 30)) is Session.REGULAR
    assert cal.session_of(utc_ns(2026, 3, 6, 13, 30)) is Session.PRE
    assert cal.session_of(utc_ns(2026, 11, 2, 13, 30)) is Session.PRE
    # the transition Sundays are closed all day, and are 23 and 25 hours long
    spring = cal.session_span(cal.local_time_ns(dt.date(2026, 3, 8), 9, 30))
    fall = cal.session_span(cal.local_time_ns(dt.date(2026, 11, 1), 9, 30))
    assert spring.session is fall.session is Session.CLOSED
    assert spring.end_ns - spring.start_ns == 23 * HOUR
    assert fall.end_ns - fall.start_ns == 25 * HOUR


def test_half_day_closes_at_one() -> None:
    day = dt.date(2026, 11, 27)  # New York is UTC-5
    assert cal.session_close_ns(day) == utc_ns(2026, 11, 27, 18, 0)
    assert cal.session_close_ns(dt.date(2026, 11, 25)) == utc_ns(2026, 11, 25, 21, 0)
    assert cal.session_of(utc_ns(2026, 11, 27, 18, 0) - 1) is Session.REGULAR
    assert cal.session_of(utc_ns(2026, 11, 27, 18, 0)) is Session.POST
    assert cal.session_of(utc_ns(2026, 11, 27, 22, 0)) is Session.CLOSED


def test_weekends_and_holidays_are_closed_all_day() -> None:
    assert cal.session_of(utc_ns(2026, 3, 7, 15, 0)) is Session.CLOSED  # Saturday
    assert cal.session_of(utc_ns(2026, 7, 3, 15, 0)) is Session.CLOSED  # holiday
    with pytest.raises(ValueError, match="not a trading day"):
        cal.session_open_ns(dt.date(2026, 7, 3))
    with pytest.raises(ValueError, match="not a trading day"):
        cal.session_close_ns(dt.date(2026, 3, 7))


def test_trading_day_is_the_new_york_date() -> None:
    assert cal.trading_day(utc_ns(2026, 3, 10, 3, 59)) == dt.date(2026, 3, 9)
    assert cal.trading_day(utc_ns(2026, 3, 10, 4, 0)) == dt.date(2026, 3, 10)
    assert cal.trading_day(utc_ns(2026, 1, 10, 4, 59)) == dt.date(2026, 1, 9)
    assert cal.trading_day(utc_ns(2026, 1, 10, 5, 0)) == dt.date(2026, 1, 10)


TIMES = st.integers(min_value=utc_ns(1999, 1, 1), max_value=utc_ns(2040, 1, 1))


@given(TIMES)
def test_span_contains_its_timestamp_and_matches_wall_clock(ts: int) -> None:
    span = cal.session_span(ts)
    assert span.start_ns <= ts < span.end_ns
    assert cal.session_span(span.start_ns) == span
    assert cal.session_span(span.end_ns - 1) == span
    local = dt.datetime.fromtimestamp(ts // NS, tz=NY)
    day = local.date()
    assert cal.trading_day(ts) == day
    minutes = local.hour * 60 + local.minute
    close = 13 * 60 if cal.is_early_close(day) else 16 * 60
    if not cal.is_trading_day(day):
        expected = Session.CLOSED
    elif 4 * 60 <= minutes < 9 * 60 + 30:
        expected = Session.PRE
    elif 9 * 60 + 30 <= minutes < close:
        expected = Session.REGULAR
    elif close <= minutes < close + 4 * 60:
        expected = Session.POST
    else:
        expected = Session.CLOSED
    assert span.session is expected


@given(st.dates(min_value=dt.date(1999, 1, 1), max_value=dt.date(2040, 12, 31)))
def test_trading_day_neighbours(day: dt.date) -> None:
    before, after = cal.previous_trading_day(day), cal.next_trading_day(day)
    assert before < day < after
    assert cal.is_trading_day(before) and cal.is_trading_day(after)
    assert (after - before).days <= 7  # the longest: 2001-09-10 to 2001-09-17
    assert all(
        not cal.is_trading_day(before + dt.timedelta(days=k))
        for k in range(1, (after - before).days)
        if before + dt.timedelta(days=k) != day
    )
    if cal.is_trading_day(day):
        opening = dt.datetime.fromtimestamp(cal.session_open_ns(day) // NS, tz=NY)
        assert (opening.date(), opening.hour, opening.minute) == (day, 9, 30)
