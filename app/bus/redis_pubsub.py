"""One pub/sub connection per bus, shared by its listeners, resubscribed after every reconnect."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any

import structlog
from redis.asyncio.client import PubSub

from app.bus.connection import TRANSIENT_ERRORS, RedisConnectionManager

log = structlog.get_logger()


class Listener:
    """A bounded inbox for one `listen()` call: when full, the oldest message is dropped."""

    __slots__ = ("channel", "inbox", "wake")

    def __init__(self, channel: str, *, size: int) -> None:
        self.channel = channel
        self.inbox: deque[bytes] = deque(maxlen=size)
        self.wake = asyncio.Event()


class PubSubRelay:
    """Keeps the server-side subscriptions equal to the channels that have listeners.

    A reader task (started with the first listener, owned here, cancelled in `close()`) does
    all pub/sub I/O: it subscribes and unsubscribes as listeners come and go, hands messages to
    their inboxes, and after a failure or a reconnect of the manager starts over on a new
    pub/sub connection with the whole set, so the set after healing equals the set before (S8).
    """

    def __init__(
        self, connection: RedisConnectionManager, *, prefix: str, poll_s: float = 0.1
    ) -> None:
        self._connection = connection
        self._prefix = prefix
        self._poll_s = poll_s
        self._listeners: dict[str, list[Listener]] = {}
        self._requested: set[str] = set()
        self._confirmed: set[str] = set()
        self._changed = asyncio.Event()
        self._confirmations = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def subscriptions(self) -> frozenset[str]:
        """Channels the server has confirmed on the current pub/sub connection."""
        return frozenset(self._confirmed)

    def add(self, channel: str, *, size: int) -> Listener:
        listener = Listener(channel, size=size)
        self._listeners.setdefault(channel, []).append(listener)
        self._changed.set()
        if self._reader is None and not self._closed:
            self._reader = asyncio.create_task(self._read(), name="redis-pubsub-relay")
        return listener

    def remove(self, listener: Listener) -> None:
        listeners = self._listeners.get(listener.channel, [])
        if listener in listeners:
            listeners.remove(listener)
        if not listeners:
            self._listeners.pop(listener.channel, None)
        self._changed.set()

    async def wait_subscribed(self, channel: str, *, timeout_s: float) -> bool:
        """Wait (bounded) until a channel that has a listener is confirmed by the server, so a
        broadcast right after `listen()` on this bus reaches it. True if confirmed."""
        try:
            async with asyncio.timeout(timeout_s):
                while channel in self._listeners and channel not in self._confirmed:
                    self._confirmations.clear()
                    await self._confirmations.wait()
        except TimeoutError:
            return False
        return channel in self._confirmed or channel not in self._listeners

    async def _read(self) -> None:
        failures = 0
        while not self._closed:
            pubsub = self._connection.client.pubsub()
            generation = self._connection.generation
            try:
                while not self._closed and generation == self._connection.generation:
                    await self._sync(pubsub)
                    await self._receive(pubsub)
                    failures = 0
            except TRANSIENT_ERRORS as exc:
                self._connection.record_failure(exc)
                log.warning("pubsub_connection_lost", error=str(exc), attempt=failures)
                await self._connection.pause(failures)
                failures += 1
            finally:
                self._requested.clear()
                self._confirmed.clear()
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated in redis-py

    async def _sync(self, pubsub: PubSub) -> None:
        wanted = set(self._listeners)
        self._changed.clear()
        added = wanted - self._requested
        removed = self._requested - wanted
        if added:
            await pubsub.subscribe(*(self._prefix + c for c in sorted(added)))
        if removed:
            await pubsub.unsubscribe(*(self._prefix + c for c in sorted(removed)))
        self._requested = wanted

    async def _receive(self, pubsub: PubSub) -> None:
        if not self._requested and not pubsub.subscribed:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_s):
                    await self._changed.wait()
            return
        message = await pubsub.get_message(timeout=self._poll_s)
        if message is not None:
            self._handle(message)

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        raw = message["channel"]
        name = raw.decode() if isinstance(raw, bytes) else str(raw)
        channel = name.removeprefix(self._prefix)
        if kind == "message":
            for listener in self._listeners.get(channel, []):
                listener.inbox.append(message["data"])
                listener.wake.set()
        elif kind == "subscribe":
            self._confirmed.add(channel)
            self._confirmations.set()
        elif kind == "unsubscribe":
            self._confirmed.discard(channel)
            self._confirmations.set()

    async def close(self) -> None:
        self._closed = True
        for listeners in self._listeners.values():
            for listener in listeners:
                listener.wake.set()
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            await asyncio.wait({reader})
            if not reader.cancelled():
                reader.result()
