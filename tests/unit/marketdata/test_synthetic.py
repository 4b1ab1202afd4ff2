from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import math
from collections import defaultdict, deque

from hypothesis import given, settings
from hypothesis import strategies as st

from app.clocks.live import LiveClock
from app.clocks.sim import SimClock
from app.domain.calendar import session_open_ns
from app.domain.market import Quote, Tick, TickBatch
from app.marketdata.synthetic import SyntheticConfig, SyntheticFeed, SyntheticTape, symbol_name
from app.marketdata.validation import TickValidator, ValidationConfig
from app.ports.feed import MarketDataFeed

NS = 1_000_000_000
MINUTE = 60 * NS
OPEN = session_open_ns(dt.date(2026, 3, 9))
SMALL = SyntheticConfig(seed=7, symbols=20)


def on_tick(price: float) -> bool:
    step = 0.01 if price >= 1.0 else 0.0001
    units = price / step
    return abs(units - round(units)) < 1e-6


def test_symbol_names_are_stable() -> None:
    assert [symbol_name(i) for i in (0, 1, 25, 26, 27, 701, 702)] == [
        "SYNA",
        "SYNB",
        "SYNZ",
        "SYNAA",
        "SYNAB",
        "SYNZZ",
        "SYNAAA",
    ]
    tape = SyntheticTape(SyntheticConfig(), OPEN)
    assert len(set(tape.symbols)) == 200
    assert tape.symbols[:3] == ["SYNA", "SYNB", "SYNC"]


def test_same_seed_same_tape_other_seed_other_tape() -> None:
    first = SyntheticTape(SMALL, OPEN).batch_until(OPEN + 10 * MINUTE)
    again = SyntheticTape(SMALL, OPEN).batch_until(OPEN + 10 * MINUTE)
    other = SyntheticTape(SyntheticConfig(seed=8, symbols=20), OPEN).batch_until(OPEN + 10 * MINUTE)
    assert len(first.ticks) > 500
    assert first == again
    assert first.ticks != other.ticks


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=90 * NS), max_size=30))
def test_chunking_does_not_change_the_tape(steps: list[int]) -> None:
    end = OPEN + 10 * MINUTE
    whole = SyntheticTape(SMALL, OPEN).batch_until(end)
    tape = SyntheticTape(SMALL, OPEN)
    ticks: list[Tick] = []
    quotes: list[Quote] = []
    upto = OPEN
    for step in steps:
        upto = min(end, upto + step)
        batch = tape.batch_until(upto, max_ticks=50)
        assert all(t.ts_ns <= upto for t in batch.ticks)
        ticks += batch.ticks
        quotes += batch.quotes
    while (rest := tape.batch_until(end, max_ticks=1_000)).ticks:
        ticks += rest.ticks
        quotes += rest.quotes
    assert ticks == whole.ticks
    assert quotes == whole.quotes


def test_ticks_are_ordered_positive_tick_correct_and_quoted_around_the_price() -> None:
    tape = SyntheticTape(SyntheticConfig(seed=3, symbols=50, price_range=(0.2, 20.0)), OPEN)
    batch = tape.batch_until(OPEN + 30 * MINUTE)
    ticks, quotes = batch.ticks, batch.quotes
    assert [t.ts_ns for t in ticks] == sorted(t.ts_ns for t in ticks)
    assert all(t.ts_ns > OPEN for t in ticks)
    by_symbol: dict[str, list[Tick]] = defaultdict(list)
    for t in ticks:
        by_symbol[t.symbol].append(t)
    for prints in by_symbol.values():
        assert [t.seq for t in prints] == list(range(1, len(prints) + 1))
        assert all(a.ts_ns < b.ts_ns for a, b in itertools.pairwise(prints))
    assert any(t.price < 1.0 for t in ticks) and any(t.price >= 1.0 for t in ticks)
    assert all(math.isfinite(t.price) and t.price > 0 and on_tick(t.price) for t in ticks)
    sizes = [t.size for t in ticks]
    assert all(0 < size <= 200_000 for size in sizes)
    round_lots = sum(size % 100 == 0 for size in sizes)
    assert 0.4 < round_lots / len(sizes) < 0.9
    assert max(sizes) >= 10_000  # a heavy tail
    assert 0.2 < len(quotes) / len(ticks) < 0.6
    printed = {(t.symbol, t.ts_ns): t.price for t in ticks}
    for q in quotes:
        assert 0 < q.bid < q.ask and on_tick(q.bid) and on_tick(q.ask)
        assert q.bid <= printed[(q.symbol, q.ts_ns)] <= q.ask
        assert q.bid_size > 0 and q.ask_size > 0


def test_the_tape_passes_validation() -> None:
    tape = SyntheticTape(SyntheticConfig(seed=5, symbols=100), OPEN)
    validator = TickValidator(ValidationConfig(universe=frozenset(tape.symbols)))
    for minute in range(1, 61):
        now = OPEN + minute * MINUTE
        batch = tape.batch_until(now)
        assert validator.check_batch(batch, now_ns=now) is batch
    assert sum(validator.counts.values()) == 0


def test_fast_moves_happen_in_a_default_session() -> None:
    """Some symbol moves more than 5% within 5 minutes during a 390-minute session (seed 1)."""
    tape = SyntheticTape(SyntheticConfig(seed=1), OPEN)
    windows: dict[str, deque[tuple[int, float]]] = defaultdict(deque)
    for minute in range(1, 391):
        for t in tape.ticks_until(OPEN + minute * MINUTE):
            window = windows[t.symbol]
            window.append((t.ts_ns, t.price))
            while window[0][0] < t.ts_ns - 5 * MINUTE:
                window.popleft()
            prices = [price for _, price in window]
            if max(prices) > 1.05 * min(prices):
                return
    raise AssertionError("no symbol moved 5% within 5 minutes in a whole session")


async def test_feed_paces_batches_by_the_clock_and_stops_at_the_end() -> None:
    clock = SimClock(OPEN)
    end = OPEN + 2 * MINUTE
    feed = SyntheticFeed(SyntheticTape(SMALL, OPEN), clock, poll_s=0.001, end_ns=end)

    async def run_the_clock() -> None:
        while clock.now_ns() < end + 10 * NS:
            clock.advance_by(3 * NS)
            await asyncio.sleep(0.001)

    received: list[Tick] = []
    async with asyncio.timeout(10), asyncio.TaskGroup() as tasks:
        tasks.create_task(run_the_clock())
        async for batch in feed.stream():
            assert batch.ticks
            assert all(t.ts_ns <= min(clock.now_ns(), end) for t in batch.ticks)
            received += batch.ticks
    assert len(received) > 100
    assert received == SyntheticTape(SMALL, OPEN).ticks_until(end)


async def test_feed_stops_when_closed() -> None:
    clock = LiveClock(OPEN, 600.0)
    feed: MarketDataFeed = SyntheticFeed(SyntheticTape(SMALL, OPEN), clock, poll_s=0.005)
    batches: list[TickBatch] = []
    async with asyncio.timeout(10):
        async for batch in feed.stream():
            batches.append(batch)
            if len(batches) == 3:
                await feed.close()
    assert len(batches) == 3
    stamps = [t.ts_ns for b in batches for t in b.ticks]
    assert stamps == sorted(stamps)
