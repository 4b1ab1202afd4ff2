"""A shard with nothing recorded warms from the venue's minute bars, replayed as prints."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from typing import cast

from app.bus.inprocess import InProcessBus
from app.bus.partition import SymbolRangePartitioner
from app.clocks.sim import SimClock
from app.domain.market import Bar, Tick
from app.domain.signal import SignalKind
from app.engine.bars import BarAggregator
from app.engine.shard import ShardEngine
from app.exits.config import ExitConfig
from app.exits.engine import ExitEngine
from app.ports.broker import BrokerUnavailable
from app.ports.ledger import Ledger
from app.services.shard_worker import ShardWorker
from app.strategies.breakout import Breakout, BreakoutParams
from tests.builders import MINUTE, OPEN_NS, SECOND

NOW_NS = OPEN_NS + 5 * MINUTE + 30 * SECOND  # half-way through minute 5


def _bar(symbol: str, minute: int, *, close: float = 10.1) -> Bar:
    return Bar(
        symbol=symbol,
        ts_ns=OPEN_NS + minute * MINUTE,
        interval_s=60,
        open=10.0,
        high=10.2,
        low=9.9,
        close=close,
        volume=600,
        trades=6,
        vwap=10.05,
    )


class Bars:
    """A venue's bar history: five quiet minutes of ABC, and the unfinished sixth."""

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.asked: list[tuple[list[str], int, int]] = []

    async def fetch_bars(
        self, symbols: Sequence[str], *, start_ns: int, end_ns: int, interval_s: int
    ) -> list[Bar]:
        assert interval_s == 60
        self.asked.append((list(symbols), start_ns, end_ns))
        if self.fail:
            raise BrokerUnavailable("venue down")
        return [_bar("ABC", minute) for minute in range(6)]


class Recorded:
    """A tick store holding one tick of the session."""

    async def write(self, ticks: Sequence[Tick]) -> None:
        raise AssertionError("warm-up only reads")

    async def read(
        self, *, start_ns: int, end_ns: int, symbols: Collection[str] | None = None
    ) -> AsyncIterator[list[Tick]]:
        yield [Tick("ABC", OPEN_NS + SECOND, 10.0, 100, 1)]

    async def flush(self) -> None:
        return None

    async def close(self) -> None:
        return None


def _worker(bars: Bars, *, history: Recorded | None = None) -> ShardWorker:
    strategy = Breakout(BreakoutParams(lookback=3, volume_mult=1.5, min_minutes_into_session=1))
    return ShardWorker(
        shard_id=0,
        partitioner=SymbolRangePartitioner(["M"]),  # A-L shard 0, M-Z shard 1
        engine=ShardEngine(
            strategies=[strategy],
            exits=ExitEngine({}, default=ExitConfig()),
            aggregator=BarAggregator(intervals=(1, 60)),
        ),
        bus=InProcessBus(),
        ledger=cast(Ledger, object()),  # warm-up reads no ledger
        consumer="test",
        history=history,
        warm_from_ns=OPEN_NS,
        clock=SimClock(NOW_NS),
        bars=bars,
        symbols=["ABC", "XYZ"],
    )


def _breakout_minute() -> list[Tick]:
    return [
        Tick("ABC", OPEN_NS + 6 * MINUTE + s * SECOND, 10.5 + s / 100, 5_000, 100 + s)
        for s in range(0, 60, 10)
    ] + [Tick("ABC", OPEN_NS + 7 * MINUTE, 10.6, 100, 200)]


async def test_finished_bars_of_the_shards_own_symbols_warm_it_silently() -> None:
    bars = Bars()
    worker = _worker(bars)
    await worker.warm_up()
    assert bars.asked == [(["ABC"], OPEN_NS, NOW_NS - MINUTE)]
    assert worker.engine.bars >= 5  # the five finished minutes, not the one still running
    assert worker.engine.last_price["ABC"] == 10.1
    (entry,) = worker.engine.on_ticks(_breakout_minute())
    assert entry.kind is SignalKind.ENTRY


async def test_a_shard_started_cold_misses_that_entry() -> None:
    cold = _worker(Bars(fail=True))
    await cold.warm_up()
    assert cold.engine.bars == 0
    assert cold.engine.on_ticks(_breakout_minute()) == []


async def test_recorded_ticks_come_first_and_the_venue_is_not_asked() -> None:
    bars = Bars()
    worker = _worker(bars, history=Recorded())
    await worker.warm_up()
    assert bars.asked == []
    assert worker.engine.ticks == 1
