"""The executor: risk chain, risk state, lease, signal consumer (the venue is in venues.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager

from app.arbitration import Arbiter, ArbiterConfig, StrategyPolicy
from app.bootstrap.runtime import ConfigurationError, process_identity
from app.bootstrap.venues import connect_venue
from app.bus.inprocess import InProcessBus
from app.engine.execution import ExecutionEngine
from app.engine.portfolio import Portfolio
from app.persistence.lease import SqlLease
from app.persistence.risk_state import SqlRiskStateStore
from app.ports.broker import Broker
from app.ports.bus import MessageBus
from app.ports.clock import Clock
from app.ports.ledger import Ledger
from app.ports.risk_state import BreakerState
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
from app.services.reconciler import Reconciler
from app.services.risk_keeper import RiskKeeper
from app.services.signal_consumer import SignalConsumer
from app.settings import RiskSettings, Settings, Venue


@asynccontextmanager
async def broker_for_lookups(
    settings: Settings, *, clock: Clock, ledger: Ledger
) -> AsyncIterator[Broker]:
    """The configured broker, enough to read the venue (`trader reconcile`): no report stream,
    no services beside it. The simulated venue is built afresh from the ledger, as at startup."""
    link = await connect_venue(
        settings, clock=clock, ledger=ledger, bus=InProcessBus(), streaming=False
    )
    try:
        yield link.broker
    finally:
        for close in link.closers:
            await close()


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


def execution_engine(
    settings: Settings, policies: Mapping[str, StrategyPolicy] | None = None
) -> ExecutionEngine:
    """The engine the executor decides with: sizing, the risk chain and book, the arbiter
    (`policies` per strategy; none: every strategy at its defaults)."""
    risk = settings.risk
    arbitration = settings.arbitration
    return ExecutionEngine(
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
        arbiter=Arbiter(
            ArbiterConfig(
                window_ns=arbitration.window_ms * 1_000_000,
                correlation_threshold=arbitration.correlation_threshold,
                correlation_min_points=arbitration.correlation_min_points,
            ),
            policies or {},
        ),
    )


def _refuse_unsupported_brackets(
    settings: Settings, policies: Mapping[str, StrategyPolicy]
) -> None:
    """Interactive Brokers gets no bracket legs from here: a strategy asking for them would
    have every entry refused, so the executor does not start."""
    if settings.venue is not Venue.IBKR:
        return
    asking = sorted(name for name, policy in policies.items() if policy.bracket is not None)
    if asking:
        raise ConfigurationError(
            f"strategies {', '.join(asking)} ask for bracket legs (exit.bracket), which are "
            "not sent to Interactive Brokers; set exit.bracket to false for them"
        )


async def build_executor(
    settings: Settings,
    *,
    ledger: Ledger,
    broker: Broker,
    bus: MessageBus,
    clock: Clock,
    policies: Mapping[str, StrategyPolicy],
    lockstep: bool = False,
) -> tuple[SignalConsumer, list[Callable[[], Awaitable[None]]]]:
    """The signal consumer with its engine, risk state, lease and breaker. In lockstep its
    periodic duties are run by the lockstep driver, at each data step."""
    _refuse_unsupported_brackets(settings, policies)
    engine = execution_engine(settings, policies)
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
                threshold=settings.risk.broker_breaker_failures,
                cooldown_ns=settings.risk.broker_breaker_cooldown_s * 1_000_000_000,
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
        resolve_every_s=None if lockstep else 1.0,
        reconciler=Reconciler(store=store, actor=identity, bus=bus),
    )
    return consumer, [lease.close, store.close]
