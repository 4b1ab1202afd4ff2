"""A request budget shared by everything that talks to a venue's REST API (S15).

Alpaca allows 200 requests in any rolling minute per account; going over costs a 429 and, worse,
a submit that waits behind polling. The budget therefore has two priority classes: orders
(submit, cancel, replace) may use all of it, queries (lookups, polling, bars) only up to
`limit - reserve`, so a burst of polling never leaves an exit order waiting for the window.

A request counts at time t for every window (t' - window, t'] that contains t. `SlidingWindow`
is the pure decision; `SlidingWindowLimiter` waits on it in one process; the Redis
implementation (app.brokers.ratelimit_redis) makes the same decision atomically for a fleet.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from app.ports.clock import Clock

Sleep = Callable[[float], Awaitable[None]]

_NS_PER_S = 1_000_000_000


class Priority(enum.Enum):
    ORDER = "order"
    QUERY = "query"


@dataclass(frozen=True, slots=True)
class RateBudget:
    """`limit` requests per `window_ns`; `reserve` of them only orders may use."""

    limit: int = 200
    window_ns: int = 60 * _NS_PER_S
    reserve: int = 20

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window_ns <= 0:
            raise ValueError("a rate budget needs limit >= 1 and a positive window")
        if not 0 <= self.reserve < self.limit:
            raise ValueError(f"reserve must be in [0, limit), got {self.reserve}")

    def cap(self, priority: Priority) -> int:
        """How many requests may be in the window when one of this priority is admitted."""
        return self.limit if priority is Priority.ORDER else self.limit - self.reserve


class RateLimiter(Protocol):
    async def acquire(self, priority: Priority) -> None:
        """Wait until one request of this priority fits the budget, and count it."""
        ...

    async def block_until(self, until_ns: int) -> None:
        """The venue said 429: admit nothing before `until_ns` (clock time)."""
        ...


class SlidingWindow:
    """The pure admission rule over the timestamps of the requests admitted so far."""

    def __init__(self, budget: RateBudget) -> None:
        self._budget = budget
        self._admitted: deque[int] = deque()
        self._blocked_until_ns = 0

    @property
    def budget(self) -> RateBudget:
        return self._budget

    def try_admit(self, now_ns: int, priority: Priority) -> int:
        """Admit (and count) a request now, returning 0; or return how long to wait, in ns,
        before asking again."""
        if now_ns < self._blocked_until_ns:
            return self._blocked_until_ns - now_ns
        horizon = now_ns - self._budget.window_ns
        while self._admitted and self._admitted[0] <= horizon:
            self._admitted.popleft()
        cap = self._budget.cap(priority)
        count = len(self._admitted)
        if count < cap:
            self._admitted.append(now_ns)
            return 0
        return self._admitted[count - cap] + self._budget.window_ns - now_ns

    def block_until(self, until_ns: int) -> None:
        self._blocked_until_ns = max(self._blocked_until_ns, until_ns)


class SlidingWindowLimiter:
    """The budget of one process. Waiters never hold a lock while sleeping, so an order that
    fits is admitted even while queries are waiting for the window to move."""

    def __init__(self, budget: RateBudget, *, clock: Clock, sleep: Sleep) -> None:
        self._window = SlidingWindow(budget)
        self._clock = clock
        self._sleep = sleep

    async def acquire(self, priority: Priority) -> None:
        while (wait_ns := self._window.try_admit(self._clock.now_ns(), priority)) > 0:
            await self._sleep(wait_ns / _NS_PER_S)

    async def block_until(self, until_ns: int) -> None:
        self._window.block_until(until_ns)
