from __future__ import annotations

import pytest

from app.backtest.bars import BarRow
from app.engine.bars import BarAggregator
from app.marketdata.prints import BarPrints

START = 1_772_461_800_000_000_000  # 2026-03-02 09:30 New York
SECOND = 1_000_000_000


def _prints(bar: BarRow, *, seed: int = 1, open_offset_ns: int = 0) -> list[tuple[float, int, int]]:
    ticks = BarPrints(interval_s=60, open_offset_ns=open_offset_ns, seed=seed).of(bar.ts_ns, [bar])
    return [(t.price, t.size, t.ts_ns - START) for t in ticks]


def test_an_up_bar_dips_first_then_runs_into_its_close() -> None:
    bar = BarRow("ABC", START, 10.0, 10.5, 9.8, 10.4, 1_003)
    assert _prints(bar) == [
        (10.0, 250, 0),
        (9.8, 250, 20 * SECOND),
        (10.5, 250, 40 * SECOND),
        (10.4, 253, 60 * SECOND - 1_000_000),
    ]


def test_a_down_bar_visits_its_high_first() -> None:
    bar = BarRow("ABC", START, 10.0, 10.5, 9.8, 9.9, 400)
    assert [price for price, _, _ in _prints(bar)] == [10.0, 10.5, 9.8, 9.9]


def test_the_open_print_waits_for_the_venue_latency() -> None:
    bar = BarRow("ABC", START, 10.0, 10.5, 9.8, 9.9, 400)
    assert _prints(bar, open_offset_ns=50_000_000)[0][2] == 50_000_000


def test_a_flat_bar_takes_the_seeded_order() -> None:
    bar = BarRow("ABC", START, 10.0, 10.5, 9.8, 10.0, 400)
    orders = {tuple(p for p, _, _ in _prints(bar, seed=seed)) for seed in range(20)}
    assert orders == {(10.0, 10.5, 9.8, 10.0), (10.0, 9.8, 10.5, 10.0)}
    assert _prints(bar, seed=5) == _prints(bar, seed=5)


def test_the_shard_aggregates_the_prints_back_into_the_bar() -> None:
    bars = [
        BarRow("ABC", START, 10.0, 10.5, 9.8, 10.4, 1_003),
        BarRow("XYZ", START, 5.0, 5.1, 4.9, 4.95, 77),
    ]
    aggregator = BarAggregator(intervals=(60,))
    for tick in BarPrints(interval_s=60, open_offset_ns=0, seed=1).of(START, bars):
        assert aggregator.add(tick) == []
    rebuilt = aggregator.flush_until(START + 60 * SECOND)
    assert [(b.symbol, b.open, b.high, b.low, b.close, b.volume) for b in rebuilt] == [
        ("ABC", 10.0, 10.5, 9.8, 10.4, 1_003),
        ("XYZ", 5.0, 5.1, 4.9, 4.95, 77),
    ]


def test_a_latency_longer_than_a_third_of_the_bar_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot hold an open"):
        BarPrints(interval_s=60, open_offset_ns=20 * SECOND, seed=1)
