from __future__ import annotations

import datetime as dt
from collections import defaultdict

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.calendar import local_time_ns, session_of
from app.domain.market import Bar, Session, Tick
from app.engine.bars import BarAggregator

NS = 1_000_000_000
FRIDAY = dt.date(2026, 3, 6)
OPEN = local_time_ns(FRIDAY, 9, 30)


def tick(symbol: str, ts: int, price: float, size: int = 100, seq: int = 0) -> Tick:
    return Tick(symbol=symbol, ts_ns=ts, price=price, size=size, seq=seq)


def reference_bars(ticks: list[Tick], intervals: tuple[int, ...]) -> list[Bar]:
    """Bars the slow, obvious way: group the in-session ticks by (symbol, interval, bucket)."""
    groups: dict[tuple[str, int, int], list[Tick]] = defaultdict(list)
    for t in ticks:
        if session_of(t.ts_ns) is Session.CLOSED:
            continue
        for interval in intervals:
            width = interval * NS
            groups[(t.symbol, interval, t.ts_ns // width * width)].append(t)
    bars = []
    for (symbol, interval, start), members in groups.items():
        prices = [m.price for m in members]
        volume = sum(m.size for m in members)
        bars.append(
            Bar(
                symbol=symbol,
                ts_ns=start,
                interval_s=interval,
                open=prices[0],
                high=max(prices),
                low=min(prices),
                close=prices[-1],
                volume=volume,
                trades=len(members),
                vwap=sum(m.price * m.size for m in members) / volume,
                session=session_of(start),
            )
        )
    return sorted(bars, key=lambda b: (b.end_ns, b.interval_s, b.symbol))


def assert_same_bars(actual: list[Bar], expected: list[Bar]) -> None:
    """Equal field by field; vwap up to float summation order."""
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        assert got.vwap == pytest.approx(want.vwap, rel=1e-12)
        assert msgspec.structs.replace(got, vwap=0.0) == msgspec.structs.replace(want, vwap=0.0)


def test_a_later_bucket_closes_the_bar() -> None:
    agg = BarAggregator(intervals=(1, 60))
    assert agg.add(tick("AAA", OPEN + 100_000_000, 10.0, 100)) == []
    assert agg.add(tick("AAA", OPEN + 500_000_000, 10.5, 300)) == []
    closed = agg.add(tick("AAA", OPEN + 1_200_000_000, 9.5, 200))
    assert closed == [Bar("AAA", OPEN, 1, 10.0, 10.5, 10.0, 10.5, 400, 2, 10.375, Session.REGULAR)]
    closed = agg.add(tick("AAA", OPEN + 61 * NS, 11.0, 100))
    assert [(b.interval_s, b.ts_ns, b.close) for b in closed] == [
        (1, OPEN + NS, 9.5),
        (60, OPEN, 9.5),
    ]
    assert closed[1].volume == 600 and closed[1].trades == 3 and closed[1].high == 10.5


def test_bars_never_span_sessions_and_carry_their_session() -> None:
    agg = BarAggregator(intervals=(60,))
    agg.add(tick("AAA", OPEN - 30 * NS, 5.0))
    closed = agg.add(tick("AAA", OPEN + 10 * NS, 5.1))
    assert [(b.ts_ns, b.session) for b in closed] == [(OPEN - 60 * NS, Session.PRE)]
    assert [(b.ts_ns, b.session) for b in agg.flush_all()] == [(OPEN, Session.REGULAR)]


def test_closed_time_ticks_are_counted_not_aggregated() -> None:
    agg = BarAggregator()
    saturday = local_time_ns(dt.date(2026, 3, 7), 12)
    night = local_time_ns(FRIDAY, 21)
    assert agg.add(tick("AAA", OPEN, 5.0)) == []
    closed = agg.add(tick("AAA", night, 5.0))
    assert {b.interval_s for b in closed} == {1, 60}
    assert agg.add(tick("AAA", saturday, 5.0)) == []
    assert agg.flush_all() == []
    assert agg.closed_session_ticks == 2


def test_flush_until_closes_quiet_symbols_in_order() -> None:
    agg = BarAggregator(intervals=(1, 60))
    agg.add(tick("BBB", OPEN + 1, 2.0))
    agg.add(tick("AAA", OPEN + 2, 3.0))
    assert agg.flush_until(OPEN + NS - 1) == []
    early = agg.flush_until(OPEN + NS)
    assert [(b.symbol, b.interval_s) for b in early] == [("AAA", 1), ("BBB", 1)]
    late = agg.flush_until(OPEN + 120 * NS)
    assert [(b.symbol, b.interval_s) for b in late] == [("AAA", 60), ("BBB", 60)]
    assert agg.flush_all() == []


def test_ticks_for_an_emitted_bucket_are_late_and_dropped() -> None:
    agg = BarAggregator(intervals=(1, 60))
    agg.add(tick("AAA", OPEN + 100, 3.0))
    agg.flush_until(OPEN + NS)
    assert agg.add(tick("AAA", OPEN + 200, 3.5)) == []
    agg.add(tick("AAA", OPEN + 2 * NS, 4.0))
    assert agg.add(tick("AAA", OPEN + NS, 4.5)) == []  # older than the symbol's last tick
    assert agg.late_ticks == 2
    bars = agg.flush_all()
    assert [(b.interval_s, b.trades, b.high) for b in bars] == [(1, 1, 4.0), (60, 2, 4.0)]


@pytest.mark.parametrize("intervals", [(), (0,), (7,), (3_600,), (1, 1_000)])
def test_intervals_must_divide_half_an_hour(intervals: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="interval"):
        BarAggregator(intervals=intervals)


SYMBOLS = ("AAA", "BBB", "CCC")
STEPS = st.one_of(
    st.integers(min_value=0, max_value=3 * NS),
    st.integers(min_value=0, max_value=400 * NS),
    st.integers(min_value=0, max_value=8 * 3_600 * NS),
)
EVENTS = st.lists(
    st.tuples(
        STEPS,
        st.sampled_from(SYMBOLS),
        st.one_of(st.floats(min_value=0.5, max_value=50.0), st.sampled_from([1.0, 1.01, 1.02])),
        st.integers(min_value=1, max_value=10_000),
        st.booleans(),
    ),
    max_size=120,
)
STARTS = st.sampled_from(
    [
        local_time_ns(FRIDAY, 9, 29),
        local_time_ns(FRIDAY, 3, 58),
        local_time_ns(FRIDAY, 19, 55),
        local_time_ns(dt.date(2026, 11, 27), 12, 55),
        local_time_ns(dt.date(2026, 3, 8), 0),
    ]
)


@settings(max_examples=150, deadline=None)
@given(start=STARTS, events=EVENTS, intervals=st.sampled_from([(1, 60), (5, 300, 1800)]))
def test_bars_equal_an_offline_group_by(
    start: int, events: list[tuple[int, str, float, int, bool]], intervals: tuple[int, ...]
) -> None:
    agg = BarAggregator(intervals=intervals)
    ticks: list[Tick] = []
    emitted: list[Bar] = []
    now = start
    for step, symbol, price, size, flush in events:
        if flush:  # the clock moves on and quiet symbols' bars close on time
            flushed = agg.flush_until(now + step // 2)
            assert all(b.end_ns <= now + step // 2 for b in flushed)
            assert flushed == sorted(flushed, key=lambda b: (b.end_ns, b.interval_s, b.symbol))
            emitted += flushed
        now += step
        t = tick(symbol, now, price, size, seq=len(ticks))
        ticks.append(t)
        closed = agg.add(t)
        assert all(b.end_ns <= now and b.symbol == symbol for b in closed)
        assert closed == sorted(closed, key=lambda b: (b.end_ns, b.interval_s))
        emitted += closed
    emitted += agg.flush_all()
    assert agg.late_ticks == 0
    emitted.sort(key=lambda b: (b.end_ns, b.interval_s, b.symbol))
    assert_same_bars(emitted, reference_bars(ticks, intervals))
    assert agg.closed_session_ticks == sum(session_of(t.ts_ns) is Session.CLOSED for t in ticks)
