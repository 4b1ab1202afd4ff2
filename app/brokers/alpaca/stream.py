"""One reconnecting WebSocket to Alpaca: the guarantees both streams need, in one place (S14, S16).

alpaca-py's TradingStream and StockDataStream cannot give them: they reconnect with equal (not
full) jitter from the global `random`, wait with real-time `asyncio.wait_for`, report no gap,
and run on websockets' deprecated legacy client. So the wire protocols are driven here with the
`websockets` package directly (alpaca-py keeps the REST side), and this session adds:

* one connection at a time: the next connect starts only after the previous socket is closed;
* exponential backoff with full jitter from an injected random source, through an injected
  sleep; the attempt count resets once a connection delivered data;
* a silence watchdog on the injected clock: a connected socket that delivers no data for
  `silence_timeout_s` is closed and replaced;
* a StreamGap for every reconnect, from the last data seen to the moment the new connection is
  ready again (authenticated and subscribed), so the owner can reconcile what it may have missed.

The wire-specific part (handshake, frame decoding) is a `Wire`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, Protocol, TypeVar

import msgspec
import structlog
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from app.brokers.ratelimit import Sleep
from app.domain.backoff import FullJitterBackoff
from app.ports.clock import Clock

E = TypeVar("E")

log = structlog.get_logger()

_NS_PER_S = 1_000_000_000


class StreamGap(msgspec.Struct, frozen=True):
    """`stream` may have lost messages between from_ns and to_ns (clock time): whatever it
    carries for that span must be reconciled (orders by lookup, prices as stale)."""

    stream: str
    from_ns: int
    to_ns: int
    reason: str


GapHandler = Callable[[StreamGap], None]


class StreamRefused(Exception):
    """The venue answered the handshake with an error (auth failed, connection limit, ...)."""


class Wire(Protocol[E]):
    """A stream's protocol: who to call, how to open a session, what its frames mean."""

    name: str
    url: str
    headers: Sequence[tuple[str, str]]

    async def handshake(self, ws: ClientConnection) -> list[E]:
        """Authenticate and subscribe; return any events that arrived on the way. Raises
        StreamRefused when the venue says no."""
        ...

    def decode(self, frame: str | bytes) -> list[E]:
        """The events one frame carries; control frames and malformed messages give none."""
        ...


class StreamSession(Generic[E]):
    """Runs `wire` until cancelled, handing every batch of events to `deliver`."""

    def __init__(
        self,
        wire: Wire[E],
        *,
        deliver: Callable[[list[E]], Awaitable[None]],
        clock: Clock,
        sleep: Sleep,
        backoff: FullJitterBackoff,
        silence_timeout_s: float | None,
        handshake_timeout_s: float,
        close_timeout_s: float,
        on_gap: GapHandler | None = None,
    ) -> None:
        self._wire = wire
        self._deliver = deliver
        self._clock = clock
        self._sleep = sleep
        self._backoff = backoff
        self._silence_ns = None if silence_timeout_s is None else int(silence_timeout_s * 1e9)
        self._handshake_timeout_s = handshake_timeout_s
        self._close_timeout_s = close_timeout_s
        self._on_gap = on_gap
        self._last_ns = 0
        self._delivered = False
        self._silenced = False
        self.ready = asyncio.Event()
        self.current: ClientConnection | None = None
        self.connections = 0
        self.recycled = 0

    async def run(self) -> None:
        attempt = 0
        lost_ns: int | None = None
        lost_reason = reason = ""
        while True:
            self._delivered = False
            established = False
            try:
                async with connect(
                    self._wire.url,
                    additional_headers=list(self._wire.headers),
                    open_timeout=self._handshake_timeout_s,
                    close_timeout=self._close_timeout_s,
                ) as ws:
                    async with asyncio.timeout(self._handshake_timeout_s):
                        early = await self._wire.handshake(ws)
                    established = True
                    self._opened(lost_ns, lost_reason)
                    lost_ns = None
                    self.current = ws
                    self.ready.set()
                    if early:
                        await self._deliver_events(early)
                    reason = await self._pump(ws)
            except (OSError, TimeoutError, WebSocketException, StreamRefused) as exc:
                reason = f"{type(exc).__name__}: {exc}"
                log.warning("alpaca_stream_failed", stream=self._wire.name, error=reason)
            except Exception as exc:  # a bug must not end the stream for good: log, go again
                reason = f"{type(exc).__name__}: {exc}"
                log.exception("alpaca_stream_crashed", stream=self._wire.name)
            finally:
                self.current = None
                self.ready.clear()
            if established:
                lost_ns, lost_reason = self._last_ns, reason
            if self._delivered:
                attempt = 0
            delay = self._backoff.delay(attempt)
            attempt += 1
            await self._sleep(delay)

    def _opened(self, lost_ns: int | None, reason: str) -> None:
        now = self._clock.now_ns()
        self.connections += 1
        self._last_ns = now
        if lost_ns is None:
            log.info("alpaca_stream_connected", stream=self._wire.name)
            return
        gap = StreamGap(stream=self._wire.name, from_ns=lost_ns, to_ns=now, reason=reason)
        log.warning("alpaca_stream_reconnected", stream=self._wire.name, gap_ns=now - lost_ns)
        if self._on_gap is not None:
            self._on_gap(gap)

    async def _pump(self, ws: ClientConnection) -> str:
        """Read until the connection ends; returns why it ended."""
        watchdog = None
        self._silenced = False
        if self._silence_ns is not None:
            watchdog = asyncio.create_task(self._watch(ws, self._silence_ns))
        ended = "closed by the venue"
        try:
            async for frame in ws:
                events = self._wire.decode(frame)
                if events:
                    await self._deliver_events(events)
        except ConnectionClosed as exc:
            ended = f"closed: {exc}"
        finally:
            if watchdog is not None:
                watchdog.cancel()
                await asyncio.gather(watchdog, return_exceptions=True)
        return "silent" if self._silenced else ended

    async def _deliver_events(self, events: list[E]) -> None:
        self._last_ns = self._clock.now_ns()
        self._delivered = True
        await self._deliver(events)

    async def _watch(self, ws: ClientConnection, limit_ns: int) -> None:
        """Close a connection that has delivered nothing for `limit_ns` of clock time."""
        while (idle_ns := self._clock.now_ns() - self._last_ns) < limit_ns:
            await self._sleep((limit_ns - idle_ns) / _NS_PER_S)
        self.recycled += 1
        self._silenced = True
        log.warning("alpaca_stream_silent", stream=self._wire.name, idle_ns=idle_ns)
        await ws.close(reason="silent")
