"""Time for the Alpaca tests: a clock that moves only when told, and two ways to sleep on it."""

from __future__ import annotations

import asyncio
import heapq
import itertools

_NS_PER_S = 1_000_000_000


class ManualClock:
    """`sleep` waits until a test advances the clock past its deadline (a watchdog under test);
    `skip` advances the clock by itself at once (backoff and rate-limit waits a test only needs
    to observe). Every requested sleep is recorded in `sleeps`, every skip in `skips`."""

    def __init__(self, start_ns: int) -> None:
        self._now_ns = start_ns
        self._sleepers: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self.sleeps: list[float] = []
        self.skips: list[float] = []

    def now_ns(self) -> int:
        return self._now_ns

    @property
    def sleeping(self) -> int:
        """How many `sleep` calls are waiting for the clock."""
        return sum(1 for _, _, future in self._sleepers if not future.done())

    def advance(self, seconds: float) -> None:
        self._now_ns += int(seconds * _NS_PER_S)
        while self._sleepers and self._sleepers[0][0] <= self._now_ns:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        deadline = self._now_ns + int(seconds * _NS_PER_S)
        heapq.heappush(self._sleepers, (deadline, next(self._order), future))
        await future

    async def skip(self, seconds: float) -> None:
        self.skips.append(seconds)
        self.advance(max(seconds, 0.0))
        await asyncio.sleep(0)
