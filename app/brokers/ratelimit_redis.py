"""The request budget on Redis, so every process of a sharded deployment spends the same one.

One Lua script evicts the requests that left the window, compares the count with the caller's
cap and records the admission, atomically: two processes can never both take the last slot.
The window is a sorted set scored by admission time in microseconds (a Lua number holds those
exactly; nanoseconds since the epoch would not fit a double). A 429's reset time lives in a
second key with a TTL, checked by the same script, so one process's 429 pauses the whole fleet.

Times come from each process's Clock: the fleet is expected to run on NTP-synced hosts, and a
skew of a few milliseconds only moves the window's edge by as much.
"""

from __future__ import annotations

import itertools

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.brokers.ratelimit import Priority, RateBudget, Sleep
from app.ports.broker import BrokerUnavailable
from app.ports.clock import Clock

_NS_PER_US = 1_000
_NS_PER_S = 1_000_000_000

_ADMIT = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now then
  return blocked - now
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < cap then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1)
  return 0
end
local edge = redis.call('ZRANGE', KEYS[1], count - cap, count - cap, 'WITHSCORES')
return tonumber(edge[2]) + window - now
"""

_BLOCK = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local target = tonumber(ARGV[1])
if target > current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 0
"""


class RedisRateLimiter:
    """`key_prefix` namespaces the two keys (a hash tag keeps them in one cluster slot);
    `instance` names this process so its admissions never collide with another's."""

    def __init__(
        self,
        client: Redis,
        budget: RateBudget,
        *,
        clock: Clock,
        sleep: Sleep,
        key_prefix: str,
        instance: str,
    ) -> None:
        self._client = client
        self._budget = budget
        self._clock = clock
        self._sleep = sleep
        self._window_key = f"{key_prefix}{{ratelimit}}:window"
        self._blocked_key = f"{key_prefix}{{ratelimit}}:blocked_until"
        self._instance = instance
        self._serial = itertools.count(1)
        self._admit = client.register_script(_ADMIT)
        self._block = client.register_script(_BLOCK)

    async def acquire(self, priority: Priority) -> None:
        """Raises BrokerUnavailable when Redis cannot be asked: nothing is sent unbudgeted."""
        while (wait_us := await self._try_admit(priority)) > 0:
            await self._sleep(wait_us * _NS_PER_US / _NS_PER_S)

    async def block_until(self, until_ns: int) -> None:
        now_us = self._clock.now_ns() // _NS_PER_US
        until_us = until_ns // _NS_PER_US
        if until_us <= now_us:
            return
        ttl_ms = (until_us - now_us) // 1_000 + 1
        try:
            await self._block(keys=[self._blocked_key], args=[until_us, ttl_ms])
        except RedisError as exc:
            raise BrokerUnavailable(f"rate limiter unreachable: {exc!r}") from exc

    async def _try_admit(self, priority: Priority) -> int:
        now_us = self._clock.now_ns() // _NS_PER_US
        member = f"{now_us}:{self._instance}:{next(self._serial)}"
        args: list[int | str] = [
            now_us,
            self._budget.window_ns // _NS_PER_US,
            self._budget.cap(priority),
            member,
        ]
        try:
            wait_us = await self._admit(keys=[self._window_key, self._blocked_key], args=args)
        except RedisError as exc:
            raise BrokerUnavailable(f"rate limiter unreachable: {exc!r}") from exc
        return int(wait_us)
