"""Owns one shard: its tick stream in, signals out; keeps the open lots of its symbols."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence

import structlog

from app.bus.codec import encode
from app.bus.partition import Partitioner
from app.bus.topics import LOTS, SIGNALS, UI_EVENTS, ticks_topic
from app.domain.market import TickBatch
from app.domain.position import Lot, LotUpdate
from app.engine.shard import ShardEngine
from app.marketdata.prints import BarPrints
from app.observability import metrics
from app.ports.bars import BarSource
from app.ports.broker import BrokerError
from app.ports.bus import MessageBus
from app.ports.clock import Clock
from app.ports.ledger import Ledger
from app.ports.tickstore import TickStore
from app.services.consumer import consume_stream

log = structlog.get_logger()

TICKS_GROUP = "shard"
_MINUTE_S = 60
_MINUTE_NS = _MINUTE_S * 1_000_000_000


class ShardWorker:
    def __init__(
        self,
        *,
        shard_id: int,
        partitioner: Partitioner,
        engine: ShardEngine,
        bus: MessageBus,
        ledger: Ledger,
        consumer: str,
        history: TickStore | None = None,
        warm_from_ns: int = 0,
        clock: Clock | None = None,
        wall: Clock | None = None,
        bars: BarSource | None = None,
        symbols: Sequence[str] = (),
    ) -> None:
        """`bars` and `symbols`: a venue's bar history, read for this shard's share of
        `symbols` when the tick store holds nothing of the session yet."""
        self.name = f"shard_worker.{shard_id}"
        self._shard_id = shard_id
        self._partitioner = partitioner
        self.engine = engine
        self._bus = bus
        self._ledger = ledger
        self._consumer = consumer
        self._history = history
        self._warm_from_ns = warm_from_ns
        self._clock = clock
        self._wall = wall
        self._bars = bars
        self._symbols = [s for s in symbols if partitioner.shard_of(s) == shard_id]
        self._stopping = asyncio.Event()
        self.signals = 0
        self._shard_label = str(shard_id)

    def request_stop(self) -> None:
        self._stopping.set()

    def _mine(self, lot: Lot) -> bool:
        return self._partitioner.shard_of(lot.symbol) == self._shard_id

    @property
    def _lots_group(self) -> str:
        """Every shard reads every lot update (each keeps its own symbols')."""
        return f"shard.{self._shard_id}"

    def consumer_groups(self) -> list[tuple[str, str]]:
        return [(ticks_topic(self._shard_id), TICKS_GROUP), (LOTS, self._lots_group)]

    async def run(self) -> None:
        structlog.contextvars.bind_contextvars(shard=self._shard_id)
        lots = [lot for lot in await self._ledger.open_lots() if self._mine(lot)]
        mine = {lot.entry_order_id for lot in lots}
        states = [s for s in await self._ledger.exit_states() if s.entry_order_id in mine]
        self.engine.load_lots(lots, states)
        await self.warm_up()
        log.info("shard_started", shard=self._shard_id, lots=len(self.engine.open_lots_all()))
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(
                consume_stream(
                    self._bus,
                    topic=ticks_topic(self._shard_id),
                    group=TICKS_GROUP,
                    consumer=self._consumer,
                    kind=TickBatch,
                    handle=self._on_batches,
                    stopping=self._stopping,
                    poison=None,  # the engine cannot take a tick twice: restart rebuilds it
                )
            )
            tasks.create_task(
                consume_stream(
                    self._bus,
                    topic=LOTS,
                    group=self._lots_group,
                    consumer=self._consumer,
                    kind=LotUpdate,
                    handle=self._on_lots,
                    stopping=self._stopping,
                )
            )

    async def warm_up(self) -> None:
        """Feed the session so far from the tick store through the engine before going live;
        with nothing recorded (a first start mid-session), from the venue's minute bars."""
        if self._clock is None:
            return
        now = self._clock.now_ns()
        warmed = 0
        if self._history is not None:
            batches = self._history.read(start_ns=self._warm_from_ns, end_ns=now)
            async for ticks in batches:
                mine = [t for t in ticks if self._partitioner.shard_of(t.symbol) == self._shard_id]
                self.engine.warm(mine)
                warmed += len(mine)
        source = "tick_store"
        if warmed == 0 and self._bars is not None and self._symbols:
            source = "venue_bars"
            warmed = await self._warm_from_bars(self._bars, now_ns=now)
        self.engine.detectors.drain()  # what was detected in the past is no news
        log.info("shard_warmed", source=source, ticks=warmed, bars=self.engine.bars)

    async def _warm_from_bars(self, source: BarSource, *, now_ns: int) -> int:
        """The session's finished minute bars, each replayed as four prints (as a bar backtest
        does), so bars, indicators and strategies come out as they would from the ticks. A
        venue that cannot answer leaves the shard to start cold: it says so and goes on."""
        try:
            bars = await source.fetch_bars(
                self._symbols,
                start_ns=self._warm_from_ns,
                end_ns=now_ns - _MINUTE_NS,
                interval_s=_MINUTE_S,
            )
        except BrokerError as exc:
            log.warning("shard_warm_from_bars_failed", error=repr(exc))
            return 0
        prints = BarPrints(interval_s=_MINUTE_S, open_offset_ns=0, seed=0)
        finished = [b for b in bars if b.ts_ns + _MINUTE_NS <= now_ns]
        warmed = 0
        for start, group in itertools.groupby(finished, key=lambda bar: bar.ts_ns):
            ticks = prints.of(start, list(group))
            self.engine.warm(ticks)
            warmed += len(ticks)
        return warmed

    async def _on_batches(self, batches: list[TickBatch]) -> None:
        started = time.perf_counter()
        before_ticks, before_bars = self.engine.ticks, self.engine.bars
        wall = self._wall
        if wall is not None:
            now = wall.now_ns()
            for batch in batches:
                if batch.sent_ns:
                    metrics.BUS_LATENCY.observe((now - batch.sent_ns) / 1e9)
        signals = 0
        for batch in batches:  # a batch's signals go out before the next batch is taken
            for signal in self.engine.on_ticks(batch.ticks):
                await self._bus.publish(SIGNALS, encode(signal))
                signals += 1
                metrics.SIGNALS_EMITTED.labels(kind=signal.kind.value).inc()
                if wall is not None and batch.sent_ns:
                    metrics.SIGNAL_LATENCY.observe((wall.now_ns() - batch.sent_ns) / 1e9)
        for detection in self.engine.detectors.drain():
            await self._bus.broadcast(UI_EVENTS, encode(detection))
            metrics.DETECTIONS.labels(kind=detection.kind.value).inc()
        if signals:
            metrics.TICK_TO_SIGNAL.observe(time.perf_counter() - started)
        await self._ledger.save_exit_states(self.engine.drain_exit_states())
        self.signals += signals
        metrics.TICKS_PROCESSED.labels(shard=self._shard_label).inc(
            self.engine.ticks - before_ticks
        )
        metrics.BARS_CLOSED.inc(self.engine.bars - before_bars)

    async def _on_lots(self, updates: list[LotUpdate]) -> None:
        for update in updates:
            if self._mine(update.lot):
                self.engine.apply_lot(update.lot, exit_working=update.exit_working)
