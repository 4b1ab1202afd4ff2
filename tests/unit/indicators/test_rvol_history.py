"""Relative volume keeps each time of day's history in flat rings; over many dates, with bars on
and off the minute grid and dates that start earlier than any before them, the incremental values
still equal the batch form's."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.market import Bar
from app.indicators import BarArrays, RelVolume, compute_outputs
from tests.unit.indicators.builders import MINUTE_NS, assert_close, ny_ns, run_incremental

DAY_NS = 24 * 60 * MINUTE_NS


@settings(max_examples=40, deadline=None)
@given(
    days=st.integers(1, 3),
    dates=st.integers(1, 7),
    minutes=st.lists(st.integers(0, 12), min_size=1, max_size=8, unique=True),
    off_grid=st.sets(st.integers(0, 7), max_size=3),
    volumes=st.lists(st.integers(0, 5_000), min_size=60, max_size=60),
    leads=st.lists(st.integers(0, 5), min_size=7, max_size=7),
)
def test_many_dates_of_the_same_minutes_match_the_batch_form(
    days: int,
    dates: int,
    minutes: list[int],
    off_grid: set[int],
    volumes: list[int],
    leads: list[int],
) -> None:
    spec = RelVolume(2, days)
    bars: list[Bar] = []
    for date in range(dates):
        open_ns = ny_ns(2024, 6, 3, 9, 30) + date * DAY_NS - leads[date] * MINUTE_NS
        for k, minute in enumerate(sorted(minutes)):
            shift = 7_000_000_000 if k in off_grid else 0  # 7 s past the minute
            volume = volumes[(date * 8 + k) % len(volumes)]
            ts = open_ns + minute * MINUTE_NS + shift
            bars.append(Bar("TEST", ts, 60, 10.0, 10.0, 10.0, 10.0, volume, 1, 10.0))
    live = run_incremental([spec], bars)
    batch = compute_outputs(spec, BarArrays.from_bars(bars))
    assert_close(live[spec.key], batch["value"], scale=1.0, label=spec.key)
