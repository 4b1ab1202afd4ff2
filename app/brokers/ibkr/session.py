"""The one connection to TWS / IB Gateway that the IB broker and feed share.

It connects (ib_async's own handshake and startup synchronisation), and when the socket goes
it reconnects with full-jitter exponential backoff, one attempt at a time, for as long as it
runs. A socket that stays silent for `silence_timeout_s` is probed with reqCurrentTime and
recycled when the probe goes unanswered (a half-open connection never says it is gone).

TWS's own connectivity notices are passed on: 1100 (TWS lost IB's servers), 1101 (back, market
data subscriptions lost) and 1102 (back, subscriptions kept). Every reconnect and every
1100 -> 1101/1102 stretch is reported as a StreamGap to `on_gap`, which the composition root
wires to reconciliation.

Listeners (the broker, the feed) hear about it in order: `session_up` after every connect,
once ib_async has synchronised; `session_down` the moment the socket is gone;
`connectivity_lost` / `connectivity_restored` for the notices.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

import structlog
from ib_async import IB

from app.brokers.ibkr.config import IbkrConfig
from app.brokers.ibkr.errors import Notice, is_notice
from app.brokers.ibkr.gaps import GapReason, StreamGap
from app.domain.backoff import FullJitterBackoff
from app.ports.broker import BrokerUnavailable
from app.ports.clock import Clock

log = structlog.get_logger()

Sleep = Callable[[float], Awaitable[None]]
GapHandler = Callable[[StreamGap], None]


class SessionListener(Protocol):
    async def session_up(self) -> None: ...

    def session_down(self) -> None: ...

    def connectivity_lost(self) -> None: ...

    async def connectivity_restored(self, *, data_lost: bool) -> None: ...


class IbkrSession:
    """Owns the ib_async `IB` object and every task that keeps it connected."""

    def __init__(
        self,
        config: IbkrConfig,
        *,
        clock: Clock,
        on_gap: GapHandler | None = None,
        random: Callable[[], float] = random.random,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.config = config
        self.ib = IB()
        self._clock = clock
        self._on_gap = on_gap
        self._sleep = sleep
        self._backoff = FullJitterBackoff(
            base_s=config.backoff_base_s, cap_s=config.backoff_cap_s, random=random
        )
        self._listeners: list[SessionListener] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._lost = asyncio.Event()
        self._up = False
        self._connecting = False
        self._closing = False
        self._started = False
        self._down_since_ns = 0
        self._dark_since_ns: int | None = None
        self._packets = 0
        self.reconnects = 0
        self.ib.disconnectedEvent += self._on_disconnected
        self.ib.errorEvent += self._on_error
        self.ib.updateEvent += self._on_packet

    def add_listener(self, listener: SessionListener) -> None:
        """Listeners join before start(), so that none misses the first connection."""
        if self._started or self.connected:
            raise RuntimeError("add listeners to the IB session before starting it")
        self._listeners.append(listener)

    @property
    def connected(self) -> bool:
        return self._up and self.ib.isConnected()

    @property
    def account(self) -> str:
        """The configured account, or the login's only managed account ("" if several)."""
        if self.config.account:
            return self.config.account
        accounts = self.ib.managedAccounts() if self.connected else []
        return accounts[0] if len(accounts) == 1 else ""

    def require(self) -> IB:
        """The connected IB, or BrokerUnavailable: nothing can have been sent."""
        if not self.connected:
            raise BrokerUnavailable(f"not connected to IB at {self.config.host}:{self.config.port}")
        return self.ib

    # lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect (a few attempts with backoff), then keep the connection up until close()."""
        if self._started:
            raise RuntimeError("the IB session is already started")
        for attempt in range(self.config.initial_attempts):
            if attempt:
                await self._sleep(self._backoff.delay(attempt - 1))
            if await self._connect_once():
                break
        else:
            raise BrokerUnavailable(
                f"cannot connect to IB at {self.config.host}:{self.config.port} "
                f"after {self.config.initial_attempts} attempts"
            )
        self._started = True
        self._spawn(self._supervise())
        if self.config.silence_timeout_s is not None:
            self._spawn(self._watch(self.config.silence_timeout_s))

    async def close(self) -> None:
        self._closing = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._up = False
        self.ib.disconnect()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # connecting ----------------------------------------------------------------------------
    async def _connect_once(self) -> bool:
        self._connecting = True
        try:
            await self._handshake()
        except Exception as exc:  # every way a connect can fail means: try again later
            log.warning("ibkr_connect_failed", port=self.config.port, error=repr(exc))
            return False
        finally:
            self._connecting = False
        self._up = True
        log.info("ibkr_connected", port=self.config.port, client_id=self.config.client_id)
        for listener in self._listeners:
            await self._tell(listener.session_up())
        return True

    async def _handshake(self) -> None:
        """ib_async's connect, failing fast when the server closes the socket before the API
        is ready (a gateway at its connection limit) instead of waiting out the timeout."""
        conn = self.ib.client.conn
        if conn.transport is not None:  # the last socket is still closing: let it finish
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_next(conn.disconnected), self.config.connect_timeout_s)
        closed = asyncio.Event()

        def on_closed(_message: str) -> None:
            closed.set()

        conn.disconnected += on_closed
        connect = asyncio.ensure_future(
            self.ib.connectAsync(
                self.config.host,
                self.config.port,
                clientId=self.config.client_id,
                timeout=self.config.connect_timeout_s,
                account=self.config.account,
            )
        )
        dropped = asyncio.ensure_future(closed.wait())
        try:
            done, _ = await asyncio.wait({connect, dropped}, return_when=asyncio.FIRST_COMPLETED)
            if connect not in done:
                raise ConnectionError("IB closed the connection before the API was ready")
            connect.result()
        finally:
            conn.disconnected -= on_closed
            for task in (connect, dropped):
                task.cancel()
            await asyncio.gather(connect, dropped, return_exceptions=True)

    async def _supervise(self) -> None:
        """Wait for a loss, then reconnect: sleep, try, sleep longer, ..., one at a time."""
        while True:
            await self._lost.wait()
            self._lost.clear()
            attempt = 0
            while True:
                await self._sleep(self._backoff.delay(attempt))
                if await self._connect_once():
                    break
                attempt += 1
            self.reconnects += 1
            since = self._down_since_ns
            if self._dark_since_ns is not None:  # TWS was already cut off before the drop
                since = min(since, self._dark_since_ns)
                self._dark_since_ns = None
            self._gap(since, GapReason.RECONNECTED)

    async def _watch(self, period_s: float) -> None:
        """Probe a socket that has been silent for a whole period; recycle it if the probe
        is not answered within another period."""
        seen = self._packets
        while True:
            await asyncio.sleep(period_s)
            if not self.connected or self._packets != seen:
                seen = self._packets
                continue
            try:
                await asyncio.wait_for(self.ib.reqCurrentTimeAsync(), period_s)
            except (TimeoutError, ConnectionError):
                if self.connected:
                    log.warning("ibkr_connection_silent", silent_s=2 * period_s)
                    self.ib.disconnect()
            seen = self._packets

    # events from ib_async ------------------------------------------------------------------
    def _on_packet(self) -> None:
        self._packets += 1

    def _on_disconnected(self) -> None:
        if self._closing or self._connecting or not self._up:
            return
        self._up = False
        self._down_since_ns = self._clock.now_ns()
        log.warning("ibkr_connection_lost", port=self.config.port)
        for listener in self._listeners:
            listener.session_down()
        self._lost.set()

    def _on_error(self, req_id: int, code: int, message: str, _contract: object) -> None:
        if not is_notice(code):
            return
        log.warning("ibkr_notice_received", code=code, message=message)
        match code:
            case Notice.CONNECTIVITY_LOST:
                if self._dark_since_ns is None:
                    self._dark_since_ns = self._clock.now_ns()
                for listener in self._listeners:
                    listener.connectivity_lost()
            case Notice.RESTORED_DATA_LOST | Notice.RESTORED_DATA_MAINTAINED:
                since = self._dark_since_ns
                self._dark_since_ns = None
                self._spawn(self._restored(code == Notice.RESTORED_DATA_LOST, since))

    async def _restored(self, data_lost: bool, since_ns: int | None) -> None:
        for listener in self._listeners:
            await self._tell(listener.connectivity_restored(data_lost=data_lost))
        reason = GapReason.DATA_LOST if data_lost else GapReason.DATA_MAINTAINED
        self._gap(self._clock.now_ns() if since_ns is None else since_ns, reason)

    async def _tell(self, call: Awaitable[None]) -> None:
        """A listener failing must not stop the others or the reconnect loop."""
        try:
            await call
        except Exception:
            log.exception("ibkr_listener_failed")

    def _gap(self, from_ns: int, reason: GapReason) -> None:
        gap = StreamGap(from_ns=from_ns, to_ns=self._clock.now_ns(), reason=reason)
        log.warning("ibkr_stream_gap", reason=reason.value, gap_ns=gap.to_ns - gap.from_ns)
        if self._on_gap is not None:
            self._on_gap(gap)


async def _next(event: Any) -> None:
    """The next emit of an eventkit Event (they are awaitable, but not coroutines)."""
    await event
