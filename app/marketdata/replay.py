"""Replay recorded ticks from a TickStore as a MarketDataFeed, optionally paced by a Clock."""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import AsyncGenerator, AsyncIterator, Collection

from app.domain.market import Tick, TickBatch
from app.ports.clock import Clock
from app.ports.tickstore import TickStore


def _ts(tick: Tick) -> int:
    return tick.ts_ns


class ReplayFeed:
    """Stored ticks in time order, as TickBatches.

    Without a clock it replays as fast as the consumer takes batches (backtests). With one, a
    tick is never emitted before `clock.now_ns()` has reached its timestamp: the feed polls the
    clock every `poll_s` seconds of real time (a fast LiveClock replays a day in minutes).
    """

    __slots__ = ("_clock", "_closed", "_end_ns", "_poll_s", "_start_ns", "_store", "_symbols")

    def __init__(
        self,
        store: TickStore,
        *,
        start_ns: int,
        end_ns: int,
        symbols: Collection[str] | None = None,
        clock: Clock | None = None,
        poll_s: float = 0.01,
    ) -> None:
        if poll_s <= 0:
            raise ValueError("poll_s must be positive")
        self._store = store
        self._start_ns = start_ns
        self._end_ns = end_ns
        self._symbols = symbols
        self._clock = clock
        self._poll_s = poll_s
        self._closed = False

    async def stream(self) -> AsyncIterator[TickBatch]:
        clock = self._clock
        stored = self._store.read(
            start_ns=self._start_ns, end_ns=self._end_ns, symbols=self._symbols
        )
        try:
            async for ticks in stored:
                done = 0
                while done < len(ticks):
                    if self._closed:
                        return
                    if clock is None:
                        due = len(ticks)
                    else:
                        due = bisect.bisect_right(ticks, clock.now_ns(), lo=done, key=_ts)
                    if due > done:
                        whole = done == 0 and due == len(ticks)
                        yield TickBatch(ticks=ticks if whole else ticks[done:due])
                        done = due
                    else:
                        await asyncio.sleep(self._poll_s)
        finally:
            if isinstance(stored, AsyncGenerator):
                await stored.aclose()

    async def close(self) -> None:
        self._closed = True
