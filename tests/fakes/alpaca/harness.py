"""Building an AlpacaBroker or AlpacaFeed on a FakeAlpaca, and reading what they emit."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

from app.brokers.alpaca.broker import AlpacaBroker
from app.brokers.alpaca.feed import AlpacaFeed
from app.brokers.alpaca.stream import StreamGap
from app.brokers.ratelimit import RateBudget, SlidingWindowLimiter
from app.domain.execution import ExecutionReport
from app.domain.market import TickBatch
from tests.fakes.alpaca.manual_clock import ManualClock
from tests.fakes.alpaca.venue import FakeAlpaca

WAIT_S = 5.0
SECOND = 1_000_000_000


def make_broker(
    venue: FakeAlpaca,
    clock: ManualClock,
    *,
    budget: RateBudget | None = None,
    gaps: list[StreamGap] | None = None,
    seed: int = 7,
    manual_sleep: bool = False,
    **config: Any,
) -> AlpacaBroker:
    """Sleeps skip ahead on the clock unless `manual_sleep` (then the test advances it)."""
    sleep = clock.sleep if manual_sleep else clock.skip
    limiter = SlidingWindowLimiter(budget or RateBudget(), clock=clock, sleep=sleep)
    return AlpacaBroker(
        venue.config(**config),
        clock=clock,
        limiter=limiter,
        rng=random.Random(seed),
        sleep=sleep,
        on_gap=None if gaps is None else gaps.append,
    )


def make_feed(
    venue: FakeAlpaca,
    clock: ManualClock,
    *,
    trades: list[str],
    quotes: list[str],
    gaps: list[StreamGap] | None = None,
    seed: int = 7,
    manual_sleep: bool = False,
    **config: Any,
) -> AlpacaFeed:
    """Skipping sleeps would race a silence watchdog ahead of the data, so it is off unless
    the test advances the clock itself (`manual_sleep`) or asks for one."""
    if not manual_sleep:
        config.setdefault("data_silence_timeout_s", None)
    return AlpacaFeed(
        venue.config(**config),
        trades=trades,
        quotes=quotes,
        clock=clock,
        rng=random.Random(seed),
        sleep=clock.sleep if manual_sleep else clock.skip,
        on_gap=None if gaps is None else gaps.append,
    )


async def next_reports(
    reports: AsyncIterator[ExecutionReport], count: int = 1
) -> list[ExecutionReport]:
    """The next `count` reports; fails the test if they do not come within WAIT_S."""
    async with asyncio.timeout(WAIT_S):
        return [await anext(reports) for _ in range(count)]


async def next_batch(batches: AsyncIterator[TickBatch]) -> TickBatch:
    async with asyncio.timeout(WAIT_S):
        return await anext(batches)
