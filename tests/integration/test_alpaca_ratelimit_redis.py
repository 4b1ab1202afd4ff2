"""The request budget on Redis: one budget for every process that shares the key prefix."""

from __future__ import annotations

from bisect import bisect_right

import pytest

from app.brokers.ratelimit import Priority, RateBudget
from app.brokers.ratelimit_redis import RedisRateLimiter
from tests.fakes.alpaca.manual_clock import ManualClock
from tests.redis_harness import shared_namespace

pytestmark = pytest.mark.redis

SECOND = 1_000_000_000
MINUTE = 60 * SECOND
T0 = 1_795_185_000 * SECOND


def max_in_any_window(stamps: list[int], window_ns: int) -> int:
    stamps = sorted(stamps)
    return max(i + 1 - bisect_right(stamps, t - window_ns) for i, t in enumerate(stamps))


async def test_two_processes_never_admit_more_than_the_limit_in_a_rolling_minute() -> None:
    budget = RateBudget(limit=200, window_ns=MINUTE, reserve=20)
    clock = ManualClock(T0)
    async with shared_namespace() as (client, prefix):
        fleet = [
            RedisRateLimiter(
                client, budget, clock=clock, sleep=clock.skip, key_prefix=prefix, instance=name
            )
            for name in ("shard-0", "shard-1")
        ]
        admitted: list[int] = []
        for n in range(520):
            clock.advance(0.05)
            priority = Priority.ORDER if n % 5 == 0 else Priority.QUERY
            await fleet[n % 2].acquire(priority)
            admitted.append(clock.now_ns())
        for _ in range(30):
            await fleet[0].acquire(Priority.ORDER)
            admitted.append(clock.now_ns())
        assert max_in_any_window(admitted, MINUTE) == 200
        assert clock.now_ns() - T0 > 2 * MINUTE


async def test_queries_leave_the_reserve_to_orders_across_processes() -> None:
    budget = RateBudget(limit=10, window_ns=MINUTE, reserve=3)
    clock = ManualClock(T0)
    async with shared_namespace() as (client, prefix):
        poller, trader = (
            RedisRateLimiter(
                client, budget, clock=clock, sleep=clock.skip, key_prefix=prefix, instance=name
            )
            for name in ("poller", "trader")
        )
        for _ in range(7):
            await poller.acquire(Priority.QUERY)
        for _ in range(3):
            await trader.acquire(Priority.ORDER)
        assert clock.now_ns() == T0
        await poller.acquire(Priority.QUERY)
        assert clock.now_ns() == T0 + MINUTE


async def test_a_429_seen_by_one_process_pauses_the_other() -> None:
    clock = ManualClock(T0)
    async with shared_namespace() as (client, prefix):
        first, second = (
            RedisRateLimiter(
                client, RateBudget(), clock=clock, sleep=clock.skip, key_prefix=prefix, instance=n
            )
            for n in ("a", "b")
        )
        await first.block_until(T0 + 4 * SECOND)
        await second.acquire(Priority.ORDER)
        assert clock.now_ns() >= T0 + 4 * SECOND
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        assert len(keys) == 2
