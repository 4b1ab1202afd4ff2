"""The same suite for every MessageBus implementation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from app.bus.inprocess import InProcessBus
from app.ports.bus import Delivery, MessageBus
from tests.redis_harness import SHARED_REDIS_URL, redis_bus, shared_namespace

BusFactory = Callable[[], MessageBus]


@pytest.fixture(params=["inprocess", pytest.param("redis", marks=pytest.mark.redis)])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[MessageBus]:
    if request.param == "inprocess":
        implementation = InProcessBus()
        yield implementation
        await implementation.close()
        return
    async with shared_namespace() as (_, prefix):
        redis = redis_bus(SHARED_REDIS_URL, prefix=prefix)
        await redis.start()
        try:
            yield redis
        finally:
            await redis.close()


async def _take(
    bus: MessageBus, topic: str, *, group: str, consumer: str, n: int
) -> list[Delivery]:
    got: list[Delivery] = []
    stream = bus.consume(topic, group=group, consumer=consumer, count=n, block_ms=50)
    async with asyncio.timeout(5):
        async for batch in stream:
            got.extend(batch)
            if len(got) >= n:
                break
    return got


async def test_every_group_sees_every_entry_in_order(bus: MessageBus) -> None:
    for i in range(5):
        await bus.publish("t", f"m{i}".encode())
    a = await _take(bus, "t", group="a", consumer="c", n=5)
    b = await _take(bus, "t", group="b", consumer="c", n=5)
    assert [d.payload for d in a] == [f"m{i}".encode() for i in range(5)]
    assert [d.payload for d in b] == [d.payload for d in a]


async def test_consumers_of_one_group_share_the_work(bus: MessageBus) -> None:
    for i in range(4):
        await bus.publish("t", str(i).encode())
    first = await _take(bus, "t", group="g", consumer="c1", n=2)
    await bus.publish("t", b"late")
    rest = await _take(bus, "t", group="g", consumer="c2", n=3)
    payloads = [d.payload for d in first + rest]
    assert sorted(payloads) == sorted([b"0", b"1", b"2", b"3", b"late"])


async def test_unacked_entries_come_back_to_their_consumer(bus: MessageBus) -> None:
    await bus.publish("t", b"x")
    await _take(bus, "t", group="g", consumer="c", n=1)
    again = await _take(bus, "t", group="g", consumer="c", n=1)
    assert again[0].payload == b"x"
    assert again[0].deliveries >= 2


async def test_acked_entries_are_not_redelivered(bus: MessageBus) -> None:
    await bus.publish("t", b"x")
    (delivery,) = await _take(bus, "t", group="g", consumer="c", n=1)
    await bus.ack("t", "g", [delivery.entry_id])
    await bus.publish("t", b"y")
    (nxt,) = await _take(bus, "t", group="g", consumer="c", n=1)
    assert nxt.payload == b"y"


async def test_empty_reads_return_control(bus: MessageBus) -> None:
    stream = bus.consume("quiet", group="g", consumer="c", block_ms=20)
    async with asyncio.timeout(5):
        batch = await anext(stream)
    assert batch == []


async def test_broadcast_reaches_listeners(bus: MessageBus) -> None:
    received: list[bytes] = []

    async def listen() -> None:
        async for payload in bus.listen("ui"):
            received.append(payload)
            if len(received) == 2:
                return

    task = asyncio.create_task(listen())
    await asyncio.sleep(0)
    await bus.broadcast("ui", b"1")
    await bus.broadcast("ui", b"2")
    async with asyncio.timeout(5):
        await task
    assert received == [b"1", b"2"]


async def test_a_dead_lettered_entry_is_never_delivered_again(bus: MessageBus) -> None:
    await bus.publish("t", b"poison")
    (delivery,) = await _take(bus, "t", group="g", consumer="c", n=1)
    await bus.dead_letter("t", "g", delivery, reason="cannot be decoded")
    await bus.publish("t", b"fine")
    (nxt,) = await _take(bus, "t", group="g", consumer="c", n=1)
    assert nxt.payload == b"fine"


async def test_a_joined_group_gets_what_was_published_before_its_consumer_came(
    bus: MessageBus,
) -> None:
    await bus.join("t", "late")
    await bus.join("t", "late")  # joining again changes nothing
    for i in range(3):
        await bus.publish("t", f"m{i}".encode())
    early = await _take(bus, "t", group="early", consumer="c", n=3)
    await bus.ack("t", "early", [d.entry_id for d in early])
    late = await _take(bus, "t", group="late", consumer="c", n=3)
    assert [d.payload for d in late] == [b"m0", b"m1", b"m2"]
