"""AlpacaBars against the fake data API: split-adjusted, every page fetched, each budgeted."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest

from app.brokers.alpaca.bars import AlpacaBars
from app.brokers.ratelimit import RateBudget, SlidingWindowLimiter
from app.domain.market import Session
from tests.builders import OPEN_NS
from tests.fakes.alpaca.bars import StoredBar
from tests.fakes.alpaca.harness import SECOND
from tests.fakes.alpaca.manual_clock import ManualClock
from tests.fakes.alpaca.venue import FakeAlpaca

MINUTE = 60 * SECOND


@pytest.fixture
async def venue() -> AsyncIterator[FakeAlpaca]:
    async with FakeAlpaca(clock=ManualClock(OPEN_NS)) as fake:
        yield fake


def bars_client(venue: FakeAlpaca, *, page_size: int) -> AlpacaBars:
    clock = ManualClock(OPEN_NS)
    limiter = SlidingWindowLimiter(RateBudget(), clock=clock, sleep=clock.skip)
    return AlpacaBars(
        venue.config(),
        limiter=limiter,
        clock=clock,
        rng=random.Random(1),
        sleep=clock.skip,
        page_size=page_size,
    )


def minute_bars(start_ns: int, closes: list[float]) -> list[StoredBar]:
    return [
        StoredBar(start_ns + i * MINUTE, c, c + 1, c - 1, c, volume=100, trades=3, vwap=c)
        for i, c in enumerate(closes)
    ]


async def test_bars_come_split_adjusted_from_every_page_in_time_order(venue: FakeAlpaca) -> None:
    venue.bars.add("ABC", minute_bars(OPEN_NS, [400.0, 404.0, 101.0]))
    venue.bars.split("ABC", effective_ns=OPEN_NS + 2 * MINUTE, ratio=4.0)
    venue.bars.add("XYZ", minute_bars(OPEN_NS, [20.0, 21.0]))
    client = bars_client(venue, page_size=2)
    try:
        bars = await client.fetch_bars(
            ["ABC", "XYZ"], start_ns=OPEN_NS, end_ns=OPEN_NS + 10 * MINUTE, interval_s=60
        )
    finally:
        await client.close()
    assert [(b.symbol, b.ts_ns - OPEN_NS, b.close) for b in bars] == [
        ("ABC", 0, 100.0),
        ("XYZ", 0, 20.0),
        ("ABC", MINUTE, 101.0),
        ("XYZ", MINUTE, 21.0),
        ("ABC", 2 * MINUTE, 101.0),
    ]
    assert bars[0].volume == 400
    assert (bars[0].interval_s, bars[0].trades, bars[0].session) == (60, 3, Session.REGULAR)
    pages = [r for r in venue.rest.requests if r.path == "/v2/stocks/bars"]
    assert len(pages) == 3
    assert {p.param("adjustment") for p in pages} == {"split"}
    assert {p.param("timeframe") for p in pages} == {"1Min"}
    assert {p.param("feed") for p in pages} == {"iex"}
    assert [p.param("page_token") for p in pages] == [None, "2", "4"]


async def test_an_interval_alpaca_has_no_timeframe_for_is_refused(venue: FakeAlpaca) -> None:
    client = bars_client(venue, page_size=10)
    try:
        with pytest.raises(ValueError, match="timeframe"):
            await client.fetch_bars(["ABC"], start_ns=OPEN_NS, end_ns=OPEN_NS, interval_s=7)
        assert await client.fetch_bars([], start_ns=OPEN_NS, end_ns=OPEN_NS, interval_s=60) == []
    finally:
        await client.close()
