"""The request budget: never more than `limit` in any rolling window, orders ahead of queries."""

from __future__ import annotations

import asyncio
from bisect import bisect_right

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.brokers.ratelimit import Priority, RateBudget, SlidingWindow, SlidingWindowLimiter
from tests.fakes.alpaca.manual_clock import ManualClock

SECOND = 1_000_000_000
MINUTE = 60 * SECOND
T0 = 1_795_185_000 * SECOND


def max_in_any_window(stamps: list[int], window_ns: int) -> int:
    """The most stamps in any half-open window (t - window, t], over every admitted t."""
    stamps = sorted(stamps)
    return max(
        (i + 1 - bisect_right(stamps, t - window_ns) for i, t in enumerate(stamps)), default=0
    )


arrivals = st.lists(
    st.tuples(st.integers(0, 3 * SECOND), st.sampled_from(list(Priority))),
    min_size=1,
    max_size=600,
)


@settings(max_examples=60, deadline=None)
@given(arrivals)
def test_a_simulated_minute_never_admits_more_than_the_limit(
    gaps: list[tuple[int, Priority]],
) -> None:
    budget = RateBudget(limit=200, window_ns=MINUTE, reserve=20)
    window = SlidingWindow(budget)
    now = T0
    admitted: list[int] = []
    queries_in_window_at_admission: list[int] = []
    for gap, priority in gaps:
        now += gap
        while (wait := window.try_admit(now, priority)) > 0:
            now += wait
        if priority is Priority.QUERY:
            queries_in_window_at_admission.append(
                sum(1 for t in admitted if t > now - budget.window_ns)
            )
        admitted.append(now)
    assert max_in_any_window(admitted, budget.window_ns) <= budget.limit
    assert all(count < budget.limit - budget.reserve for count in queries_in_window_at_admission)


def test_a_full_window_admits_the_next_request_exactly_when_the_oldest_leaves() -> None:
    window = SlidingWindow(RateBudget(limit=3, window_ns=MINUTE, reserve=0))
    for offset in (0, 10, 20):
        assert window.try_admit(T0 + offset * SECOND, Priority.ORDER) == 0
    assert window.try_admit(T0 + 30 * SECOND, Priority.ORDER) == 30 * SECOND
    assert window.try_admit(T0 + MINUTE, Priority.ORDER) == 0


def test_queries_stop_at_the_reserve_while_orders_still_go() -> None:
    window = SlidingWindow(RateBudget(limit=10, window_ns=MINUTE, reserve=3))
    for _ in range(7):
        assert window.try_admit(T0, Priority.QUERY) == 0
    assert window.try_admit(T0, Priority.QUERY) == MINUTE
    for _ in range(3):
        assert window.try_admit(T0, Priority.ORDER) == 0
    assert window.try_admit(T0, Priority.ORDER) == MINUTE


def test_a_block_holds_every_priority_until_it_ends() -> None:
    window = SlidingWindow(RateBudget(limit=10, window_ns=MINUTE, reserve=0))
    window.block_until(T0 + 5 * SECOND)
    assert window.try_admit(T0, Priority.ORDER) == 5 * SECOND
    assert window.try_admit(T0 + 5 * SECOND, Priority.QUERY) == 0


def test_budget_rejects_a_reserve_that_leaves_queries_nothing() -> None:
    with pytest.raises(ValueError, match="reserve"):
        RateBudget(limit=5, reserve=5)


async def test_the_limiter_waits_on_the_clock_for_the_window_to_move() -> None:
    clock = ManualClock(T0)
    limiter = SlidingWindowLimiter(
        RateBudget(limit=200, window_ns=MINUTE, reserve=20), clock=clock, sleep=clock.skip
    )
    admitted: list[int] = []
    for _ in range(250):
        await limiter.acquire(Priority.ORDER)
        admitted.append(clock.now_ns())
    assert admitted[199] == T0
    assert admitted[200] == T0 + MINUTE
    assert max_in_any_window(admitted, MINUTE) == 200


async def test_an_order_passes_queries_that_wait_for_the_window() -> None:
    clock = ManualClock(T0)
    limiter = SlidingWindowLimiter(
        RateBudget(limit=4, window_ns=MINUTE, reserve=1), clock=clock, sleep=clock.sleep
    )
    for _ in range(3):
        await limiter.acquire(Priority.QUERY)
    waiting_query = asyncio.create_task(limiter.acquire(Priority.QUERY))
    await asyncio.sleep(0)
    await asyncio.wait_for(limiter.acquire(Priority.ORDER), 1.0)
    assert not waiting_query.done()
    clock.advance(60)
    await asyncio.wait_for(waiting_query, 1.0)
    assert clock.now_ns() == T0 + MINUTE


async def test_a_429_block_delays_the_next_acquire_until_the_reset() -> None:
    clock = ManualClock(T0)
    limiter = SlidingWindowLimiter(RateBudget(), clock=clock, sleep=clock.skip)
    await limiter.block_until(T0 + 7 * SECOND)
    await limiter.acquire(Priority.ORDER)
    assert clock.now_ns() == T0 + 7 * SECOND
