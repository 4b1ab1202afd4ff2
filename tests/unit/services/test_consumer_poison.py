"""S18 in the consume loop: a message its handler keeps failing on is dead-lettered with the
error after a bounded number of retries and the rest of its batch is handled; an outage is not
a poison message and leaves the whole batch pending."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence

import pytest
from sqlalchemy.exc import OperationalError

from app.bus.codec import encode
from app.bus.inprocess import InProcessBus
from app.services.consumer import RETRY_ALONE, consume_stream
from app.services.poison import PoisonRetry

TOPIC = "signals"
GROUP = "execution"
MESSAGES = [f"m{i}" for i in range(5)]
CULPRIT = "m2"


class AckCountingBus(InProcessBus):
    """The monolith's bus, remembering every entry id acknowledged (dead letters included)."""

    def __init__(self) -> None:
        super().__init__()
        self.acked: Counter[str] = Counter()

    async def ack(self, topic: str, group: str, entry_ids: Sequence[str]) -> None:
        self.acked.update(entry_ids)
        await super().ack(topic, group, entry_ids)


class DedupLedger:
    """A handler shaped like the services' ones: it works through a batch in order and books
    each message once by its key (as the ledger books a signal once by its dedup key); it
    raises `error` on the culprit the first `failures` times it sees it (None: always)."""

    def __init__(
        self, error: Exception, *, culprit: str = CULPRIT, failures: int | None = None
    ) -> None:
        self.error = error
        self.culprit = culprit
        self.failures = failures
        self.batches: list[list[str]] = []
        self.booked: Counter[str] = Counter()

    async def __call__(self, messages: list[str]) -> None:
        self.batches.append(list(messages))
        for message in messages:
            if message == self.culprit and (
                self.failures is None or self.seen(message) <= self.failures
            ):
                raise self.error
            if message not in self.booked:
                self.booked[message] += 1

    def seen(self, message: str) -> int:
        return sum(batch.count(message) for batch in self.batches)


async def _published(bus: InProcessBus) -> dict[str, str]:
    return {message: await bus.publish(TOPIC, encode(message)) for message in MESSAGES}


async def _consume(
    bus: InProcessBus, handle: DedupLedger, *, poison: PoisonRetry | None = RETRY_ALONE
) -> None:
    """Run the loop until it has drained what was published (or raised)."""
    stopping = asyncio.Event()
    stopping.set()
    async with asyncio.timeout(5):
        await consume_stream(
            bus, topic=TOPIC, group=GROUP, consumer="c", kind=str, handle=handle,
            stopping=stopping, poison=poison,
        )  # fmt: skip


async def test_the_culprit_is_dead_lettered_with_its_error_after_n_retries() -> None:
    bus = AckCountingBus()
    ids = await _published(bus)
    handler = DedupLedger(ValueError("price is not a number"))

    await _consume(bus, handler, poison=PoisonRetry(retries=3, backoff_s=0))

    ((letter, reason),) = bus.dead_letters[TOPIC]
    assert letter.entry_id == ids[CULPRIT]
    assert reason == "handler failed 3 times: ValueError: price is not a number"
    assert handler.seen(CULPRIT) == 1 + 3  # the batch, then three retries alone
    assert handler.batches[0] == MESSAGES and all(len(b) == 1 for b in handler.batches[1:])
    good = [m for m in MESSAGES if m != CULPRIT]
    assert handler.booked == Counter(good)  # each booked once
    assert bus.acked == Counter(ids.values())  # each acknowledged once, the culprit by burial
    assert bus.pending_count(TOPIC, GROUP) == 0


async def test_a_message_that_fails_and_then_succeeds_is_not_dead_lettered() -> None:
    bus = AckCountingBus()
    ids = await _published(bus)
    handler = DedupLedger(KeyError("warming up"), failures=2)  # the batch and the first retry

    await _consume(bus, handler, poison=PoisonRetry(retries=3, backoff_s=0))

    assert TOPIC not in bus.dead_letters
    assert handler.seen(CULPRIT) == 3
    assert handler.booked == Counter(MESSAGES)
    assert bus.acked == Counter(ids.values())


@pytest.mark.parametrize(
    "outage",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        TimeoutError(),
        OperationalError("SELECT 1", {}, Exception("server closed the connection")),
    ],
    ids=["connection refused", "timeout", "database"],
)
async def test_an_outage_propagates_and_leaves_the_batch_pending(outage: Exception) -> None:
    bus = AckCountingBus()
    await _published(bus)
    handler = DedupLedger(outage)

    with pytest.raises(type(outage)):
        await _consume(bus, handler)

    assert handler.batches == [MESSAGES]  # no retry
    assert TOPIC not in bus.dead_letters
    assert not bus.acked
    assert bus.pending_count(TOPIC, GROUP) == len(MESSAGES)


async def test_an_outage_during_the_retries_stops_them_and_buries_nothing() -> None:
    bus = AckCountingBus()
    await _published(bus)

    class DatabaseGoesAway(DedupLedger):
        async def __call__(self, messages: list[str]) -> None:
            if len(self.batches) == 2:
                self.error = ConnectionResetError("connection reset by peer")
            await super().__call__(messages)

    handler = DatabaseGoesAway(ValueError("bad"), culprit="m0")

    with pytest.raises(ConnectionResetError):
        await _consume(bus, handler, poison=PoisonRetry(retries=3, backoff_s=0))

    assert TOPIC not in bus.dead_letters
    assert not bus.acked
    assert bus.pending_count(TOPIC, GROUP) == len(MESSAGES)


async def test_a_handler_not_retried_in_process_fails_then_isolates_the_culprit() -> None:
    bus = AckCountingBus()
    ids = await _published(bus)
    handler = DedupLedger(ValueError("bad bar"))

    with pytest.raises(ValueError, match="bad bar"):
        await _consume(bus, handler, poison=None)
    assert not bus.acked and handler.batches == [MESSAGES]

    with pytest.raises(ValueError, match="bad bar"):  # the restarted service
        await _consume(bus, handler, poison=None)

    assert handler.batches[1:] == [["m0"], ["m1"], ["m2"]]
    assert bus.acked == Counter([ids["m0"], ids["m1"]])
    assert TOPIC not in bus.dead_letters
