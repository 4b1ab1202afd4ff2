"""The consume loop: a poison entry goes to the dead letters; the batch around it flows on."""

from __future__ import annotations

import asyncio

from app.bus.codec import encode
from app.bus.inprocess import InProcessBus
from app.domain.market import Tick, TickBatch
from app.services.consumer import consume_stream
from tests.builders import OPEN_NS


async def test_poison_is_dead_lettered_with_its_reason_and_the_rest_is_handled() -> None:
    bus = InProcessBus()
    good = [TickBatch(ticks=[Tick("ABC", OPEN_NS + i, 10.0, 100, i + 1)]) for i in range(2)]
    await bus.publish("ticks.0", encode(good[0]))
    await bus.publish("ticks.0", b"\x93not msgpack for a batch")
    await bus.publish("ticks.0", encode(good[1]))
    handled: list[TickBatch] = []
    stopping = asyncio.Event()

    async def handle(batches: list[TickBatch]) -> None:
        handled.extend(batches)
        stopping.set()

    async with asyncio.timeout(5):
        await consume_stream(
            bus, topic="ticks.0", group="g", consumer="c", kind=TickBatch,
            handle=handle, stopping=stopping,
        )  # fmt: skip
    assert handled == good
    ((letter, reason),) = bus.dead_letters["ticks.0"]
    assert letter.payload.startswith(b"\x93") and reason.startswith("undecodable")
    assert bus.pending_count("ticks.0", "g") == 0
    await bus.close()
