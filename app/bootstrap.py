"""Composition root: the only module that branches on mode, venue and feed."""

from __future__ import annotations

import datetime
import enum
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from app.brokers.sim.broker import SimBroker
from app.brokers.sim.fill_model import FillModel
from app.brokers.sim.venue import SimVenue, VenueConfig
from app.bus.inprocess import InProcessBus
from app.clocks.live import LiveClock
from app.domain.calendar import (
    is_trading_day,
    next_trading_day,
    previous_trading_day,
    session_close_ns,
    session_open_ns,
    trading_day,
)
from app.domain.ids import SequentialIds
from app.domain.money import ZERO
from app.engine.bars import BarAggregator
from app.engine.execution import ExecutionEngine
from app.engine.portfolio import Portfolio
from app.engine.shard import ShardEngine
from app.exits.config import ExitConfig
from app.exits.engine import ExitEngine
from app.marketdata.replay import ReplayFeed
from app.marketdata.synthetic import SyntheticConfig, SyntheticFeed, SyntheticTape
from app.marketdata.validation import TickValidator, ValidationConfig
from app.persistence.lease import SqlLease
from app.persistence.ledger import SqlLedger
from app.persistence.migrate import upgrade
from app.persistence.risk_state import SqlRiskStateStore
from app.ports.broker import Broker
from app.ports.bus import MessageBus
from app.ports.clock import Clock
from app.ports.feed import MarketDataFeed
from app.ports.ledger import Ledger
from app.ports.risk_state import BreakerState
from app.ports.service import Service
from app.risk.book import RiskBook, RiskLimits
from app.risk.breaker import BreakerConfig, FailureBreaker
from app.risk.chain import RiskChain
from app.risk.guards import (
    CooldownRule,
    DailyLossRule,
    HaltRule,
    PatternDayTraderRule,
    StaleDataRule,
)
from app.risk.intent import RiskRule
from app.risk.rules import (
    BuyingPowerRule,
    MaxExposureRule,
    MaxOpenPositionsRule,
    MaxSymbolExposureRule,
    MaxTradeRiskRule,
    StrategyCapitalRule,
)
from app.risk.sizing import FixedFractionalSizer, SizingConfig
from app.services.market_data import StreamRouter
from app.services.risk_keeper import RiskKeeper
from app.services.shard_worker import ShardWorker
from app.services.signal_consumer import SignalConsumer
from app.services.tick_recorder import TickRecorder
from app.services.venue_feeder import VenueFeeder
from app.settings import FeedKind, Mode, RiskSettings, Settings, Venue
from app.strategies.base import Strategy
from app.strategies.breakout import Breakout
from app.tickstore.parquet import ParquetTickStore


class Role(enum.StrEnum):
    MONOLITH = "monolith"


class ConfigurationError(RuntimeError):
    """The settings ask for something this build cannot run; the message says what."""


@dataclass
class Runtime:
    """Everything a process role runs, in the order it must be drained on stop."""

    role: Role
    stages: list[list[Service]]
    ledger: Ledger
    bus: MessageBus
    clock: Clock
    router: StreamRouter | None = None
    shards: list[ShardWorker] = field(default_factory=list)
    consumer: SignalConsumer | None = None
    metrics_port: int | None = None
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def __aenter__(self) -> Runtime:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.bus.close()
        for close in self.closers:
            await close()
        await self.ledger.close()


def process_identity(role: str) -> str:
    """Who this process is, for leases and consumer names: unique per incarnation."""
    return f"{role}-{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def default_strategies() -> list[Strategy]:
    return [Breakout()]


@dataclass(frozen=True, slots=True)
class SessionWindow:
    """The simulated session: its open, where this run starts in it, and its close."""

    open_ns: int
    start_ns: int
    end_ns: int


async def market_clock(settings: Settings, ledger: Ledger) -> tuple[Clock, SessionWindow]:
    """The market clock and the [start, end) of the simulated session to run.

    A paper account continues where its ledger stopped: within the session it resumes at the
    last recorded activity; after the close it moves on to the next trading day, unless a
    session date is pinned.
    """
    pinned = settings.synthetic.session_date
    if pinned:
        day = _parse_day(pinned)
    else:
        day = trading_day(LiveClock().now_ns())
        if not is_trading_day(day):
            day = previous_trading_day(day)
    start = session_open_ns(day)
    last = await ledger.last_activity_ns()
    if last is not None and last >= start:
        last_day = trading_day(last)
        if not pinned and last >= session_close_ns(last_day):
            day = next_trading_day(last_day)
            start = session_open_ns(day)
        else:
            day, start = last_day, last + 1
    end = session_close_ns(day)
    start = min(start, end)
    window = SessionWindow(open_ns=session_open_ns(day), start_ns=start, end_ns=end)
    return LiveClock(start_ns=start, speed=settings.synthetic.speed), window


def _parse_day(text: str) -> datetime.date:
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigurationError(f"session date must be YYYY-MM-DD, got {text!r}") from exc
    if not is_trading_day(day):
        raise ConfigurationError(f"{day} is not a US equities trading day")
    return day


def build_feed(settings: Settings, *, clock: Clock, window: SessionWindow) -> MarketDataFeed:
    match settings.feed:
        case FeedKind.SYNTHETIC:
            config = SyntheticConfig(
                seed=settings.synthetic.seed, symbols=settings.synthetic.symbols
            )
            tape = SyntheticTape(config, start_ns=window.open_ns)
            tape.ticks_until(window.start_ns - 1)  # the same tape, resumed where the ledger stopped
            return SyntheticFeed(tape, clock, end_ns=window.end_ns)
        case FeedKind.REPLAY:
            store = ParquetTickStore(settings.tick_dir)
            return ReplayFeed(store, start_ns=window.start_ns, end_ns=window.end_ns, clock=clock)


async def build_broker(
    settings: Settings, *, clock: Clock, ledger: Ledger, bus: MessageBus
) -> tuple[Broker, list[Service]]:
    """The broker for the configured venue and the services it needs beside it."""
    match settings.venue:
        case Venue.SIM:
            positions = await ledger.positions()
            lots = await ledger.open_lots()
            cash = settings.risk.starting_cash + sum((p.realized_pnl for p in positions), ZERO)
            cash -= sum(
                (lot.qty_open * lot.avg_price * lot.side.sign + lot.fees for lot in lots), ZERO
            )
            sim = settings.sim
            venue = SimVenue(
                VenueConfig(
                    latency_ns=sim.latency_ms * 1_000_000,
                    starting_cash=cash,
                    buying_power_multiplier=sim.buying_power_multiplier,
                    fill_model=FillModel(
                        slippage_bps=sim.slippage_bps,
                        participation=sim.participation,
                        fee_per_share=sim.fee_per_share,
                    ),
                ),
                ids=SequentialIds("sim"),
            )
            for lot in lots:
                venue.seed_position(lot.symbol, qty=lot.signed_qty, avg_price=lot.avg_price)
            broker = SimBroker(venue, clock)
            feeder = VenueFeeder(
                venue=broker, bus=bus, shard_count=settings.shard_count, consumer="venue"
            )
            return broker, [feeder]
        case Venue.ALPACA | Venue.IBKR:
            raise ConfigurationError(
                f"venue {settings.venue.value!r} is not available in this build; "
                "use TRADER_VENUE=sim"
            )


def risk_chain(risk: RiskSettings) -> RiskChain:
    """Gates first (they refuse outright), then the caps (they cut the size to what fits)."""
    gates: list[RiskRule] = [
        HaltRule(),
        StaleDataRule(max_age_ns=int(risk.stale_signal_s * 1e9)),
        CooldownRule(),
        DailyLossRule(limit=risk.daily_loss_limit),
    ]
    if risk.pdt:
        gates.append(PatternDayTraderRule())
    caps: list[RiskRule] = [
        MaxTradeRiskRule(limit=risk.max_trade_risk),
        MaxSymbolExposureRule(limit=risk.max_symbol_exposure),
        StrategyCapitalRule(default=risk.strategy_capital),
        MaxExposureRule(limit=risk.max_exposure),
        BuyingPowerRule(),
        MaxOpenPositionsRule(limit=risk.max_open_positions),
    ]
    return RiskChain([*gates, *caps])


async def build_executor(
    settings: Settings, *, ledger: Ledger, broker: Broker, bus: MessageBus, clock: Clock
) -> tuple[SignalConsumer, list[Callable[[], Awaitable[None]]]]:
    """The signal consumer with its engine, risk state, lease and breaker."""
    risk = settings.risk
    engine = ExecutionEngine(
        portfolio=Portfolio(starting_cash=risk.starting_cash),
        sizer=FixedFractionalSizer(
            SizingConfig(
                risk_per_trade_pct=risk.risk_per_trade_pct,
                max_position_value=risk.max_position_value,
            )
        ),
        risk=risk_chain(risk),
        risk_book=RiskBook(
            RiskLimits(
                max_drawdown=risk.max_drawdown,
                global_max_drawdown=risk.global_max_drawdown,
                loss_streak=risk.loss_streak,
                cooldown_ns=risk.cooldown_s * 1_000_000_000,
            )
        ),
        order_ttl_ns=settings.order_ttl_s * 1_000_000_000,
        entry_collar_bps=risk.entry_collar_bps,
    )
    lease = SqlLease(settings.ledger_url)
    store = SqlRiskStateStore(settings.ledger_url)
    await lease.start()
    await store.start()
    identity = process_identity("executor")
    keeper = RiskKeeper(
        engine=engine,
        store=store,
        broker=broker,
        breaker=FailureBreaker(
            BreakerConfig(
                threshold=risk.broker_breaker_failures,
                cooldown_ns=risk.broker_breaker_cooldown_s * 1_000_000_000,
            ),
            BreakerState(name=f"broker.{settings.venue.value}"),
        ),
        bus=bus,
        clock=clock,
        actor=identity,
    )
    consumer = SignalConsumer(
        engine=engine,
        ledger=ledger,
        broker=broker,
        bus=bus,
        clock=clock,
        lease=lease,
        keeper=keeper,
        consumer=identity,
    )
    return consumer, [lease.close, store.close]


async def build(settings: Settings, *, role: Role = Role.MONOLITH) -> Runtime:
    match settings.mode:
        case Mode.MONOLITH:
            return await _build_monolith(settings)
        case Mode.SHARDED:
            raise ConfigurationError(
                "sharded mode (RedisBus and per-role workers) is not available in this build; "
                "use TRADER_MODE=monolith"
            )


async def _build_monolith(settings: Settings) -> Runtime:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.migrate_on_start:
        await upgrade(settings.ledger_url)
    ledger = SqlLedger(settings.ledger_url)
    await ledger.start()
    bus = InProcessBus()
    clock, window = await market_clock(settings, ledger)
    broker, venue_services = await build_broker(settings, clock=clock, ledger=ledger, bus=bus)
    strategies = default_strategies()
    exit_configs = {s.name: s.exit for s in strategies}
    shard_count = settings.shard_count
    shards = [
        ShardWorker(
            shard_id=shard,
            shard_count=shard_count,
            engine=ShardEngine(
                strategies=default_strategies(),
                exits=ExitEngine(exit_configs, default=ExitConfig()),
                aggregator=BarAggregator(intervals=(1, settings.strategy_interval_s)),
            ),
            bus=bus,
            ledger=ledger,
            consumer=f"monolith-{shard}",
        )
        for shard in range(shard_count)
    ]
    consumer, closers = await build_executor(
        settings, ledger=ledger, broker=broker, bus=bus, clock=clock
    )
    router = StreamRouter(
        feed=build_feed(settings, clock=clock, window=window),
        validator=TickValidator(ValidationConfig()),
        bus=bus,
        clock=clock,
        shard_count=shard_count,
    )
    second: list[Service] = [*shards, *venue_services]
    if settings.feed is FeedKind.SYNTHETIC:
        store = ParquetTickStore(settings.tick_dir)
        second.append(
            TickRecorder(store=store, bus=bus, shard_count=shard_count, consumer="monolith")
        )
    return Runtime(
        role=Role.MONOLITH,
        closers=closers,
        metrics_port=settings.metrics_port,
        stages=[[router], second, [consumer]],
        ledger=ledger,
        bus=bus,
        clock=clock,
        router=router,
        shards=shards,
        consumer=consumer,
    )
