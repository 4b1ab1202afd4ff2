"""Session indicators against hand-computed values: VWAP resets at each New York date, minutes
since the 09:30 open (across DST), gap from the prior close, time-of-day relative volume."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from app.domain.market import Bar
from app.indicators import (
    VWAP,
    BarArrays,
    GapPct,
    IndicatorSpec,
    MinutesSinceOpen,
    NewYorkCalendar,
    Output,
    RelVolume,
    VWAPBands,
    compute_batch,
)
from tests.unit.indicators.builders import bar, ny_ns, ready_flags, run_incremental

D1, D2, D3 = (2024, 3, 7), (2024, 3, 8), (2024, 3, 11)  # Thu, Fri (EST); Mon after the DST switch

SESSIONS: list[Bar] = [
    bar(ny_ns(*D1, 8, 0), 10.0, high=11.0, low=9.0, volume=100),
    bar(ny_ns(*D1, 9, 30), 11.0, high=12.0, low=10.0, volume=300),
    bar(ny_ns(*D1, 15, 59), 10.0, volume=100),
    bar(ny_ns(*D1, 16, 30), 10.5, volume=100),  # post-market: not the prior close
    bar(ny_ns(*D2, 4, 0), 11.0, volume=0),
    bar(ny_ns(*D2, 8, 0), 11.0, volume=200),
    bar(ny_ns(*D2, 9, 30), 12.5, open_=12.0, high=13.0, low=12.0, volume=100),
    bar(ny_ns(*D2, 9, 45), 13.0, open_=13.0, volume=100),
    bar(ny_ns(*D3, 8, 0), 12.0, volume=100),
    bar(ny_ns(*D3, 9, 30), 9.5, open_=9.0, high=9.5, low=9.0, volume=100),
]


def both(ref: IndicatorSpec | Output, bars: list[Bar]) -> tuple[np.ndarray, np.ndarray]:
    key = ref.key
    return run_incremental([ref], bars)[key], compute_batch(ref, BarArrays.from_bars(bars))


def assert_series(ref: IndicatorSpec | Output, bars: list[Bar], expected: list[float]) -> None:
    live, batch = both(ref, bars)
    np.testing.assert_allclose(live, expected, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(batch, expected, rtol=1e-12, equal_nan=True)


def test_vwap_resets_when_a_new_new_york_date_starts() -> None:
    nan = math.nan
    assert_series(
        VWAP(),
        SESSIONS,
        [
            10.0,
            (10.0 * 100 + 11.0 * 300) / 400,
            (4300.0 + 1000.0) / 500,
            (5300.0 + 1050.0) / 600,
            nan,  # new date, nothing traded yet
            11.0,  # reset: the previous date's bars no longer count
            (11.0 * 200 + 12.5 * 100) / 300,
            (11.0 * 200 + 12.5 * 100 + 13.0 * 100) / 400,
            12.0,
            (12.0 * 100 + 9.333333333333334 * 100) / 200,
        ],
    )


def test_vwap_bands_are_the_volume_weighted_deviation_around_vwap() -> None:
    std = math.sqrt((100 * 0.75**2 + 300 * 0.25**2) / 400)  # typical 10 x100, 11 x300
    live, batch = both(VWAPBands(2.0).upper, SESSIONS[:2])
    np.testing.assert_allclose(live, [10.0, 10.75 + 2 * std], rtol=1e-12)
    np.testing.assert_allclose(batch, live, rtol=1e-12)
    live, _ = both(VWAPBands(2.0).lower, SESSIONS[:2])
    np.testing.assert_allclose(live, [10.0, 10.75 - 2 * std], rtol=1e-12)


def test_minutes_since_open_counts_from_0930_new_york_across_dst() -> None:
    def utc_ns(year: int, month: int, day: int, hour: int, minute: int) -> int:
        moment = dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)
        return int(moment.timestamp()) * 1_000_000_000

    bars = [
        bar(utc_ns(2024, 3, 8, 14, 30), 10.0),  # 09:30 EST
        bar(utc_ns(2024, 3, 8, 14, 45), 10.0),
        bar(utc_ns(2024, 3, 8, 13, 0), 10.0),  # 08:00 EST
        bar(utc_ns(2024, 3, 11, 12, 0), 10.0),  # 08:00 EDT
        bar(utc_ns(2024, 3, 11, 13, 30), 10.0),  # 09:30 EDT
        bar(utc_ns(2024, 3, 11, 20, 0) + 30 * 1_000_000_000, 10.0),  # 16:00:30 EDT
    ]
    bars.sort(key=lambda b: b.ts_ns)
    assert_series(MinutesSinceOpen(), bars, [-90.0, 0.0, 15.0, -90.0, 0.0, 390.5])
    assert ready_flags(MinutesSinceOpen(), bars) == [True] * len(bars)


def test_gap_is_from_the_prior_regular_close() -> None:
    nan = math.nan
    expected = [
        nan,
        nan,
        nan,
        nan,  # first date: no prior close yet
        10.0,  # pre-market: live gap of the close vs 10.00 (the 15:59 close, not 10.50)
        10.0,
        20.0,  # the opening bar's open, 12.00 vs 10.00
        20.0,  # fixed for the rest of the date
        (12.0 - 13.0) / 13.0 * 100.0,  # next date: prior close is the 09:45 close, 13.00
        (9.0 - 13.0) / 13.0 * 100.0,
    ]
    assert_series(GapPct(), SESSIONS, expected)
    assert ready_flags(GapPct(), SESSIONS) == [False] * 4 + [True] * 6


def test_gap_keeps_the_older_close_when_a_date_had_no_regular_bars() -> None:
    bars = [
        bar(ny_ns(*D1, 15, 0), 10.0),
        bar(ny_ns(*D2, 17, 0), 20.0),  # post-market only: its open is the date's opening gap
        bar(ny_ns(*D3, 8, 0), 11.0),  # prior close is still D1's 10.00, not D2's 20.00
    ]
    assert_series(GapPct(), bars, [math.nan, 100.0, 10.0])


def test_relative_volume_uses_the_same_time_of_day_where_history_allows() -> None:
    volumes = {D1: (100, 300), D2: (200, 100), D3: (600, 50)}
    bars = [
        bar(ny_ns(*day, 10, minute), 10.0, volume=v)
        for day, pair in volumes.items()
        for minute, v in zip((0, 1), pair, strict=True)
    ]
    nan = math.nan
    expected = [
        nan,
        nan,  # no baseline at all yet
        200 / ((100 + 300) / 2),  # one prior 10:00 only: the previous 2 bars' mean volume
        100 / ((300 + 200) / 2),
        600 / ((100 + 200) / 2),  # two prior 10:00 bars: same time of day
        50 / ((300 + 100) / 2),
    ]
    assert_series(RelVolume(2, 2), bars, expected)
    assert ready_flags(RelVolume(2, 2), bars) == [False, False, True, True, True, True]


def test_relative_volume_is_nan_on_a_zero_baseline() -> None:
    bars = [bar(ny_ns(*D1, 10, m), 10.0, volume=v) for m, v in enumerate((0, 0, 100, 50))]
    assert_series(RelVolume(2, 5), bars, [math.nan, math.nan, math.nan, 50 / 50.0])
    assert ready_flags(RelVolume(2, 5), bars) == [False, False, True, True]


def test_calendar_day_bounds_follow_daylight_saving() -> None:
    calendar = NewYorkCalendar()
    winter = calendar.bounds(ny_ns(*D2, 12, 0))
    summer = calendar.bounds(ny_ns(*D3, 12, 0))
    assert winter.open_ns - winter.start_ns == (9 * 60 + 30) * 60 * 1_000_000_000
    assert winter.close_ns - winter.open_ns == 390 * 60 * 1_000_000_000
    spring = calendar.day(dt.date(2024, 3, 10))
    assert spring.end_ns - spring.start_ns == 23 * 3600 * 1_000_000_000
    assert summer.start_ns == int(dt.datetime(2024, 3, 11, 4, tzinfo=dt.UTC).timestamp()) * 10**9


@pytest.mark.parametrize("ts", [ny_ns(*D1, 0, 0), ny_ns(*D1, 23, 59)])
def test_a_date_runs_from_new_york_midnight_to_midnight(ts: int) -> None:
    assert NewYorkCalendar().bounds(ts).start_ns == ny_ns(*D1, 0, 0)
