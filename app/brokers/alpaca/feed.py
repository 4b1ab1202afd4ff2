"""AlpacaFeed: the MarketDataFeed port on Alpaca's real-time stream (IEX or SIP by config).

Frames are decoded as they arrive and queued (bounded: a consumer that falls behind slows the
reader, and the venue drops a slow client, which shows as a reconnect and a gap); `stream()`
takes what is queued into one TickBatch, so a burst travels as a few large batches. Symbols can
be added or removed at runtime; every reconnect restores exactly the current set.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, Iterable

from websockets.exceptions import ConnectionClosed

from app.brokers.alpaca.config import AlpacaConfig
from app.brokers.alpaca.market_data import DataWire, MarketEvent, Subscriptions, change_messages
from app.brokers.alpaca.stream import GapHandler, StreamSession
from app.brokers.ratelimit import Sleep
from app.domain.backoff import FullJitterBackoff
from app.domain.market import Quote, Tick, TickBatch
from app.ports.clock import Clock

_Item = list[MarketEvent] | None


class AlpacaFeed:
    """Bootstrap builds it with `AlpacaFeed(config, trades=..., quotes=..., clock=..., rng=...)`;
    `on_gap` hears of every reconnect (prices for the gap are missing: treat them as stale)."""

    def __init__(
        self,
        config: AlpacaConfig,
        *,
        trades: Iterable[str],
        quotes: Iterable[str],
        clock: Clock,
        rng: random.Random,
        sleep: Sleep = asyncio.sleep,
        on_gap: GapHandler | None = None,
    ) -> None:
        self._batch_max = config.batch_max
        self.subscriptions = Subscriptions(trades=trades, quotes=quotes)
        self.wire = DataWire(
            url=config.data_stream_url,
            key_id=config.key_id,
            secret_key=config.secret_key,
            subscriptions=self.subscriptions,
        )
        self.session = StreamSession(
            self.wire,
            deliver=self._enqueue,
            clock=clock,
            sleep=sleep,
            backoff=FullJitterBackoff(
                base_s=config.backoff_base_s, cap_s=config.backoff_cap_s, random=rng.random
            ),
            silence_timeout_s=config.data_silence_timeout_s,
            handshake_timeout_s=config.handshake_timeout_s,
            close_timeout_s=config.close_timeout_s,
            on_gap=on_gap,
        )
        self._queue: asyncio.Queue[_Item] = asyncio.Queue(maxsize=config.queue_max)
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._failure: BaseException | None = None

    async def stream(self) -> AsyncGenerator[TickBatch, None]:
        """Batches in arrival order until close(); raises what stopped the session, if it
        stopped by itself."""
        self._start()
        while not self._closed:
            first = await self._queue.get()
            if first is None:
                break
            events = list(first)
            while len(events) < self._batch_max and not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    self._queue.put_nowait(None)
                    break
                events.extend(more)
            ticks = [event for event in events if isinstance(event, Tick)]
            quotes = [event for event in events if isinstance(event, Quote)]
            yield TickBatch(ticks=ticks, quotes=quotes)
        if self._failure is not None:
            raise self._failure

    async def subscribe(self, *, trades: Iterable[str] = (), quotes: Iterable[str] = ()) -> None:
        self.subscriptions.desired["trades"].update(trades)
        self.subscriptions.desired["quotes"].update(quotes)
        await self._sync()

    async def unsubscribe(self, *, trades: Iterable[str] = (), quotes: Iterable[str] = ()) -> None:
        self.subscriptions.desired["trades"].difference_update(trades)
        self.subscriptions.desired["quotes"].difference_update(quotes)
        await self._sync()

    async def close(self) -> None:
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._queue.empty():
            self._queue.put_nowait(None)

    async def _sync(self) -> None:
        """While connected, send the change now; otherwise (or if the connection drops on the
        way) the next handshake applies it."""
        ws = self.session.current
        if ws is None:
            return
        try:
            for frame in change_messages(self.subscriptions.missing(), self.subscriptions.extra()):
                await ws.send(frame)
        except ConnectionClosed:
            return

    def _start(self) -> None:
        if self._task is None and not self._closed:
            self._task = asyncio.create_task(self.session.run(), name="alpaca-market-data")
            self._task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        self._failure = task.exception()
        self._closed = True
        if self._queue.empty():
            self._queue.put_nowait(None)

    async def _enqueue(self, events: list[MarketEvent]) -> None:
        await self._queue.put(events)
