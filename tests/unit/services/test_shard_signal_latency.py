"""A shard worker times each signal from the router's stamp on the tick batch that produced it
to the signal's publication (L1's tick->signal), on the wall clock it is given."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import cast

from prometheus_client import REGISTRY

from app.bus.codec import encode
from app.bus.inprocess import InProcessBus
from app.bus.partition import SymbolRangePartitioner
from app.bus.topics import SIGNALS, ticks_topic
from app.clocks.sim import SimClock
from app.domain.exit_state import ExitState
from app.domain.market import Tick, TickBatch
from app.domain.position import Lot
from app.engine.bars import BarAggregator
from app.engine.shard import ShardEngine
from app.exits.config import ExitConfig
from app.exits.engine import ExitEngine
from app.ports.ledger import Ledger
from app.services.shard_worker import ShardWorker
from app.strategies.breakout import Breakout, BreakoutParams
from tests.builders import MINUTE, OPEN_NS, SECOND

WALL_NS = 1_800_000_000_000_000_000
METRIC = "trader_engine_signal_latency_seconds"


class NoLots:
    """The ledger a fresh shard reads: nothing open; exit states are accepted and dropped."""

    async def open_lots(self) -> list[Lot]:
        return []

    async def exit_states(self) -> list[ExitState]:
        return []

    async def save_exit_states(self, states: Sequence[ExitState]) -> None:
        return None


def _tape() -> list[Tick]:
    """Five quiet minutes of ABC, a breakout minute on volume, then the print closing it."""
    quiet = [
        Tick("ABC", OPEN_NS + m * MINUTE + s * SECOND, 10.0 + (s % 20) / 100, 100, m * 10 + s)
        for m in range(6)
        for s in range(0, 60, 10)
    ]
    breakout = [
        Tick("ABC", OPEN_NS + 6 * MINUTE + s * SECOND, 10.5 + s / 100, 5_000, 100 + s)
        for s in range(0, 60, 10)
    ]
    return [*quiet, *breakout, Tick("ABC", OPEN_NS + 7 * MINUTE, 10.6, 100, 200)]


def _observed() -> tuple[float, float]:
    count = REGISTRY.get_sample_value(f"{METRIC}_count") or 0.0
    total = REGISTRY.get_sample_value(f"{METRIC}_sum") or 0.0
    return count, total


async def test_each_signal_is_timed_from_its_batchs_router_stamp() -> None:
    bus = InProcessBus()
    strategy = Breakout(BreakoutParams(lookback=3, volume_mult=1.5, min_minutes_into_session=1))
    worker = ShardWorker(
        shard_id=0,
        partitioner=SymbolRangePartitioner([]),
        engine=ShardEngine(
            strategies=[strategy],
            exits=ExitEngine({}, default=ExitConfig()),
            aggregator=BarAggregator(intervals=(1, 60)),
        ),
        bus=bus,
        ledger=cast(Ledger, NoLots()),
        consumer="test",
        wall=SimClock(WALL_NS),
    )
    *history, closing = _tape()
    await bus.publish(ticks_topic(0), encode(TickBatch(ticks=history, sent_ns=WALL_NS)))
    await bus.publish(
        ticks_topic(0), encode(TickBatch(ticks=[closing], sent_ns=WALL_NS - 7_000_000))
    )
    count, total = _observed()
    worker.request_stop()  # it drains what was published, then stops
    async with asyncio.timeout(5):
        await worker.run()
    assert worker.signals == 1
    after_count, after_total = _observed()
    assert after_count - count == 1
    assert abs(after_total - total - 0.007) < 1e-9
    await bus.close()


class TickCountingBus(InProcessBus):
    """Notes how many ticks the engine had taken whenever a signal is published."""

    def __init__(self) -> None:
        super().__init__()
        self.engine: ShardEngine | None = None
        self.ticks_at_signal: list[int] = []

    async def publish(self, topic: str, payload: bytes) -> str:
        if topic == SIGNALS and self.engine is not None:
            self.ticks_at_signal.append(self.engine.ticks)
        return await super().publish(topic, payload)


async def test_a_batchs_signals_go_out_before_the_next_batch_is_taken() -> None:
    bus = TickCountingBus()
    strategy = Breakout(BreakoutParams(lookback=3, volume_mult=1.5, min_minutes_into_session=1))
    engine = ShardEngine(
        strategies=[strategy],
        exits=ExitEngine({}, default=ExitConfig()),
        aggregator=BarAggregator(intervals=(1, 60)),
    )
    bus.engine = engine
    worker = ShardWorker(
        shard_id=0,
        partitioner=SymbolRangePartitioner([]),
        engine=engine,
        bus=bus,
        ledger=cast(Ledger, NoLots()),
        consumer="test",
    )
    *history, closing = _tape()
    later = [Tick("ABC", closing.ts_ns + k * SECOND, 10.6, 100, 300 + k) for k in range(1, 4)]
    for ticks in (history, [closing], later):  # one read takes all three
        await bus.publish(ticks_topic(0), encode(TickBatch(ticks=ticks, sent_ns=WALL_NS)))
    worker.request_stop()
    async with asyncio.timeout(5):
        await worker.run()
    assert bus.ticks_at_signal == [len(history) + 1]
    assert engine.ticks == len(history) + 1 + len(later)
    await bus.close()
