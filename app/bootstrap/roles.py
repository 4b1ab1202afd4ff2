"""Composition per role: the monolith, or one process of the sharded topology."""

from __future__ import annotations

import random
from collections.abc import Sequence
from urllib.parse import urlsplit

from app.bootstrap.execution import build_executor
from app.bootstrap.runtime import ConfigurationError, Role, Runtime, process_identity
from app.bootstrap.session import build_feed, market_clock, synthetic_tape, venue_clock
from app.bootstrap.strategies import (
    build_all,
    executor_watcher,
    lenient_policies,
    open_strategy_store,
    shard_watcher,
)
from app.bootstrap.venues import connect_feed, connect_venue, venue_bars
from app.brokers.sim.broker import SimBroker
from app.bus.connection import RedisConfig, RedisConnectionManager
from app.bus.inprocess import InProcessBus
from app.bus.partition import JumpHashPartitioner, Partitioner, SymbolRangePartitioner
from app.bus.redis_bus import RedisBus
from app.bus.redis_bus_config import RedisBusConfig
from app.bus.topics import LOTS, SIGNALS, ticks_topic
from app.clocks.live import LiveClock
from app.clocks.sim import SimClock
from app.domain.strategy_config import StrategyConfig
from app.engine.bars import BarAggregator
from app.engine.shard import ShardEngine
from app.exits.config import ExitConfig
from app.exits.engine import ExitEngine
from app.marketdata.lockstep import LockstepFeed
from app.marketdata.validation import TickValidator, ValidationConfig
from app.persistence.ledger import SqlLedger
from app.persistence.migrate import upgrade
from app.ports.bars import BarSource
from app.ports.bus import MessageBus
from app.ports.clock import Clock
from app.ports.feed import MarketDataFeed
from app.ports.ledger import Ledger
from app.ports.service import Service
from app.ports.tickstore import TickStore
from app.services.lockstep import LockstepDriver
from app.services.market_data import StreamRouter
from app.services.shard_worker import ShardWorker
from app.services.tick_recorder import TickRecorder
from app.settings import FeedKind, Mode, PartitionKind, Settings, Venue
from app.tickstore.parquet import ParquetTickStore
from app.tickstore.questdb import QuestDbConfig, QuestDbTickStore


async def build(settings: Settings, *, role: Role = Role.MONOLITH) -> Runtime:
    match settings.mode, role:
        case Mode.MONOLITH, Role.MONOLITH:
            return await _monolith(settings)
        case Mode.MONOLITH, _:
            raise ConfigurationError(
                f"role {role.value!r} is a process of the sharded topology: set TRADER_MODE=sharded"
            )
        case Mode.SHARDED, Role.MONOLITH:
            raise ConfigurationError(
                "TRADER_MODE=sharded runs one role per process: "
                "--role router, shard, recorder or executor"
            )
        case _:
            return await _sharded(settings, role)


def partitioner(settings: Settings) -> Partitioner:
    """The one symbol -> shard map every process of a deployment uses."""
    match settings.partition:
        case PartitionKind.JUMP:
            return JumpHashPartitioner(settings.shard_count)
        case PartitionKind.RANGE:
            return SymbolRangePartitioner(settings.partition_bounds)


async def _ledger(settings: Settings) -> SqlLedger:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.migrate_on_start:
        await upgrade(settings.ledger_url)
    ledger = SqlLedger(settings.ledger_url)
    await ledger.start()
    return ledger


def _shard_worker(
    settings: Settings,
    shard: int,
    *,
    bus: MessageBus,
    ledger: Ledger,
    consumer: str,
    history: TickStore,
    clock: Clock,
    warm_from_ns: int,
    configs: Sequence[StrategyConfig],
    bars: BarSource | None,
) -> ShardWorker:
    strategies = build_all(configs)
    intervals = sorted({1, settings.strategy_interval_s, *(s.interval_s for s in strategies)})
    return ShardWorker(
        shard_id=shard,
        partitioner=partitioner(settings),
        engine=ShardEngine(
            strategies=strategies,
            exits=ExitEngine({s.name: s.exit for s in strategies}, default=ExitConfig()),
            aggregator=BarAggregator(intervals=tuple(intervals)),
        ),
        bus=bus,
        ledger=ledger,
        consumer=consumer,
        history=history,
        clock=clock,
        warm_from_ns=warm_from_ns,
        wall=LiveClock(),
        bars=bars,
        symbols=settings.symbols,
    )


async def _monolith(settings: Settings) -> Runtime:
    ledger = await _ledger(settings)
    bus = InProcessBus()
    step_ms = settings.synthetic.lockstep_ms
    if settings.venue is not Venue.SIM:
        clock, window = venue_clock(settings)
    else:
        clock, window = await market_clock(settings, ledger)
    if step_ms is not None:
        _check_lockstep(settings)
        clock = SimClock(window.start_ns)
    link = await connect_venue(
        settings,
        clock=clock,
        ledger=ledger,
        bus=bus,
        with_feed=settings.feed is FeedKind.VENUE,
    )
    broker, venue_services = link.broker, link.services
    history = ParquetTickStore(settings.tick_dir)
    store = await open_strategy_store(settings.ledger_url, clock)
    configs, version = await store.all(), await store.version()
    shards = [
        _shard_worker(
            settings,
            shard,
            bus=bus,
            ledger=ledger,
            consumer=f"monolith-{shard}",
            history=history,
            clock=clock,
            warm_from_ns=window.open_ns,
            configs=configs,
            bars=link.bars,
        )
        for shard in range(settings.shard_count)
    ]
    consumer, closers = await build_executor(
        settings,
        ledger=ledger,
        broker=broker,
        bus=bus,
        clock=clock,
        policies=lenient_policies(configs),
        lockstep=step_ms is not None,
    )
    link.gaps.bind(consumer.request_reconcile)
    poll = settings.strategy_poll_s
    watchers = [
        executor_watcher(store, consumer.engine.arbiter, version=version, poll_s=poll),
        *(shard_watcher(store, w.engine, configs, version=version, poll_s=poll) for w in shards),
    ]
    feed: MarketDataFeed
    if link.feed is not None:
        feed = link.feed
    elif step_ms is None:
        feed = build_feed(settings, clock=clock, window=window)
    else:
        assert isinstance(broker, SimBroker) and isinstance(clock, SimClock)
        venue_services = []  # the driver feeds the venue, ahead of the strategies
        driver = LockstepDriver(
            bus=bus,
            broker=broker,
            consumer=consumer,
            consumed=[*(ticks_topic(i) for i in range(settings.shard_count)), SIGNALS, LOTS],
        )
        feed = LockstepFeed(
            synthetic_tape(settings, window),
            clock,
            step_ns=step_ms * 1_000_000,
            end_ns=window.end_ns,
            driver=driver,
        )
    router = StreamRouter(
        feed=feed,
        validator=TickValidator(ValidationConfig()),
        bus=bus,
        clock=clock,
        partitioner=partitioner(settings),
        wall=LiveClock(),
    )
    second: list[Service] = [*shards, *venue_services, *watchers]
    if settings.feed is not FeedKind.REPLAY:
        second.append(
            TickRecorder(
                store=ParquetTickStore(settings.tick_dir),
                bus=bus,
                shard_count=settings.shard_count,
                consumer="monolith",
            )
        )
    return Runtime(
        role=Role.MONOLITH,
        closers=[*closers, history.close, store.close, *link.closers],
        metrics_port=settings.metrics_port,
        health_port=settings.health_port,
        health_host=settings.health_host,
        stages=[[router], second, [consumer]],
        ledger=ledger,
        bus=bus,
        clock=clock,
        router=router,
        shards=shards,
        consumer=consumer,
    )


def _check_lockstep(settings: Settings) -> None:
    if settings.venue is not Venue.SIM or settings.feed is not FeedKind.SYNTHETIC:
        raise ConfigurationError(
            "lockstep runs the synthetic feed on the simulated venue: "
            "unset TRADER_SYNTHETIC__LOCKSTEP_MS or use TRADER_VENUE=sim, TRADER_FEED=synthetic"
        )
    if settings.arbitration.window_ms:
        raise ConfigurationError(
            "lockstep resolves arbitration per bar: set TRADER_ARBITRATION__WINDOW_MS=0"
        )


async def _redis_bus(settings: Settings) -> RedisBus:
    jitter = random.Random()  # noqa: S311 - backoff jitter, not secrecy
    connection = RedisConnectionManager(RedisConfig(url=settings.redis_url), rng=jitter)
    bus = RedisBus(connection, config=RedisBusConfig(prefix=f"{settings.bus_prefix}:"))
    await bus.start()
    return bus


async def build_tick_store(settings: Settings) -> TickStore:
    """QuestDB when configured (ILP over HTTP at the URL, PG wire on its default port)."""
    if settings.questdb_url is None:
        return ParquetTickStore(settings.tick_dir)
    where = urlsplit(settings.questdb_url)
    store = QuestDbTickStore(
        QuestDbConfig(host=where.hostname or "127.0.0.1", http_port=where.port or 9000)
    )
    await store.start()
    return store


async def _sharded(settings: Settings, role: Role) -> Runtime:
    bus = await _redis_bus(settings)
    clock, window = venue_clock(settings)
    me = process_identity(role.value)
    runtime = Runtime(
        role=role,
        stages=[],
        bus=bus,
        clock=clock,
        metrics_port=settings.metrics_port,
        health_port=settings.health_port,
        health_host=settings.health_host,
        checks={"bus": lambda: bus.health.healthy},
    )
    match role:
        case Role.ROUTER:
            feed: MarketDataFeed
            if settings.feed is FeedKind.VENUE:
                feed, runtime.closers = await connect_feed(settings, clock=clock)
            else:
                feed = build_feed(settings, clock=clock, window=window)
            runtime.router = StreamRouter(
                feed=feed,
                validator=TickValidator(ValidationConfig()),
                bus=bus,
                clock=clock,
                partitioner=partitioner(settings),
                wall=LiveClock(),
            )
            runtime.stages = [[runtime.router]]
        case Role.SHARD:
            if settings.shard_id is None:
                raise ConfigurationError("a shard worker needs TRADER_SHARD_ID")
            runtime.ledger = await _ledger(settings)
            history = await build_tick_store(settings)
            store = await open_strategy_store(settings.ledger_url, clock)
            configs, version = await store.all(), await store.version()
            runtime.closers = [history.close, store.close]
            bars = venue_bars(settings, runtime.closers)
            worker = _shard_worker(
                settings,
                settings.shard_id,
                bus=bus,
                ledger=runtime.ledger,
                consumer=me,
                history=history,
                clock=clock,
                warm_from_ns=window.open_ns,
                configs=configs,
                bars=bars,
            )
            watcher = shard_watcher(
                store, worker.engine, configs, version=version, poll_s=settings.strategy_poll_s
            )
            runtime.shards, runtime.stages = [worker], [[worker, watcher]]
        case Role.RECORDER:
            recorder = TickRecorder(
                store=await build_tick_store(settings),
                bus=bus,
                shard_count=settings.shard_count,
                consumer=me,
            )
            runtime.stages = [[recorder]]
        case _:
            runtime.ledger = await _ledger(settings)
            link = await connect_venue(settings, clock=clock, ledger=runtime.ledger, bus=bus)
            store = await open_strategy_store(settings.ledger_url, clock)
            configs, version = await store.all(), await store.version()
            consumer, closers = await build_executor(
                settings,
                ledger=runtime.ledger,
                broker=link.broker,
                bus=bus,
                clock=clock,
                policies=lenient_policies(configs),
            )
            link.gaps.bind(consumer.request_reconcile)
            runtime.closers = [*closers, store.close, *link.closers]
            runtime.consumer = consumer
            watcher = executor_watcher(
                store, consumer.engine.arbiter, version=version, poll_s=settings.strategy_poll_s
            )
            executing: list[Service] = [consumer, watcher]
            runtime.stages = [stage for stage in (link.services, executing) if stage]
    return runtime
