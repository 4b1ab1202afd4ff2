"""The monolith's bus: durable-stream semantics (consumer groups, pending, ack) in one process."""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field

from app.ports.bus import Delivery


@dataclass(slots=True)
class _Group:
    cursor: int = 0
    pending: dict[int, str] = field(default_factory=dict)  # seq -> consumer


@dataclass(slots=True)
class _Stream:
    entries: OrderedDict[int, bytes] = field(default_factory=OrderedDict)
    next_seq: int = 0
    groups: dict[str, _Group] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


class InProcessBus:
    """Streams keep entries until every group has acknowledged them (or `maxlen` is exceeded).

    An entry is dropped once every group has acknowledged it, so a group created late starts at
    the oldest entry still retained: services join their groups (`join`) before any data flows.
    Pub/sub listeners get a bounded queue that drops the oldest.
    """

    def __init__(self, *, maxlen: int = 1_000_000, listener_queue: int = 1_000) -> None:
        self._maxlen = maxlen
        self._listener_queue = listener_queue
        self._streams: dict[str, _Stream] = {}
        self._listeners: dict[str, list[deque[bytes]]] = {}
        self._listener_events: dict[str, asyncio.Event] = {}
        self._closed = False
        self.dead_letters: dict[str, deque[tuple[Delivery, str]]] = {}

    def _stream(self, topic: str) -> _Stream:
        stream = self._streams.get(topic)
        if stream is None:
            stream = self._streams[topic] = _Stream()
        return stream

    async def publish(self, topic: str, payload: bytes) -> str:
        stream = self._stream(topic)
        seq = stream.next_seq
        stream.next_seq += 1
        stream.entries[seq] = payload
        while len(stream.entries) > self._maxlen:
            stream.entries.popitem(last=False)
        stream.arrived.set()
        stream.arrived = asyncio.Event()
        return str(seq)

    async def join(self, topic: str, group: str) -> None:
        self._group(self._stream(topic), group)

    def _group(self, stream: _Stream, group: str) -> _Group:
        found = stream.groups.get(group)
        if found is None:
            oldest = next(iter(stream.entries), stream.next_seq)
            found = stream.groups[group] = _Group(cursor=oldest)
        return found

    async def consume(
        self, topic: str, *, group: str, consumer: str, count: int = 100, block_ms: int = 500
    ) -> AsyncIterator[list[Delivery]]:
        stream = self._stream(topic)
        state = self._group(stream, group)
        mine = [seq for seq, owner in state.pending.items() if owner == consumer]
        if mine:
            yield [
                Delivery(topic, str(s), stream.entries[s], 2) for s in mine if s in stream.entries
            ]
        while not self._closed:
            waiter = stream.arrived
            batch: list[Delivery] = []
            cursor = max(state.cursor, next(iter(stream.entries), stream.next_seq))
            while cursor < stream.next_seq and len(batch) < count:
                payload = stream.entries.get(cursor)
                if payload is not None:
                    state.pending[cursor] = consumer
                    batch.append(Delivery(topic, str(cursor), payload))
                cursor += 1
            state.cursor = cursor
            if batch:
                yield batch
                continue
            try:
                await asyncio.wait_for(waiter.wait(), timeout=block_ms / 1000)
            except TimeoutError:
                yield []

    async def ack(self, topic: str, group: str, entry_ids: Sequence[str]) -> None:
        stream = self._stream(topic)
        state = self._group(stream, group)
        for entry_id in entry_ids:
            state.pending.pop(int(entry_id), None)
        self._trim(stream)

    def _trim(self, stream: _Stream) -> None:
        if not stream.groups:
            return
        floor = min(min(g.pending, default=g.cursor) for g in stream.groups.values())
        while stream.entries:
            oldest = next(iter(stream.entries))
            if oldest >= floor:
                break
            del stream.entries[oldest]

    async def dead_letter(self, topic: str, group: str, delivery: Delivery, *, reason: str) -> None:
        letters = self.dead_letters.setdefault(topic, deque(maxlen=self._maxlen))
        letters.append((delivery, reason))
        await self.ack(topic, group, [delivery.entry_id])

    def idle(self, consumed: Iterable[str] = (), *, besides: Iterable[str] = ()) -> bool:
        """True when every group (other than those named in `besides`) of every stream has
        read and acknowledged everything, and each topic in `consumed` has a group (its
        consumer has started): nothing is in flight."""
        for topic in consumed:
            if not self._stream(topic).groups:
                return False
        ignored = frozenset(besides)
        return all(
            state.cursor >= stream.next_seq and not state.pending
            for stream in self._streams.values()
            for name, state in stream.groups.items()
            if name not in ignored
        )

    def pending_count(self, topic: str, group: str) -> int:
        return len(self._group(self._stream(topic), group).pending)

    async def broadcast(self, channel: str, payload: bytes) -> None:
        for queue in self._listeners.get(channel, []):
            queue.append(payload)
        event = self._listener_events.pop(channel, None)
        if event is not None:
            event.set()

    async def listen(self, channel: str) -> AsyncIterator[bytes]:
        queue: deque[bytes] = deque(maxlen=self._listener_queue)
        self._listeners.setdefault(channel, []).append(queue)
        try:
            while not self._closed:
                while queue:
                    yield queue.popleft()
                event = self._listener_events.setdefault(channel, asyncio.Event())
                await event.wait()
        finally:
            self._listeners[channel].remove(queue)

    async def close(self) -> None:
        self._closed = True
        for stream in self._streams.values():
            stream.arrived.set()
        for event in self._listener_events.values():
            event.set()
