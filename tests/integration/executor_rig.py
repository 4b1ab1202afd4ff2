"""The execution service with real parts, for the executor's integration tests: a SQLite ledger,
lease and risk-state store, an in-process bus and the simulated venue on a market clock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

from app.brokers.sim.broker import SimBroker
from app.brokers.sim.fill_model import FillModel
from app.brokers.sim.venue import SimVenue
from app.brokers.sim.venue_config import VenueConfig
from app.bus.inprocess import InProcessBus
from app.clocks.sim import SimClock
from app.domain.ids import SequentialIds
from app.engine.execution import ExecutionEngine
from app.engine.portfolio import Portfolio
from app.persistence.lease import SqlLease
from app.persistence.ledger import SqlLedger
from app.persistence.risk_state import SqlRiskStateStore
from app.ports.risk_state import BreakerState
from app.risk.book import RiskBook, RiskLimits
from app.risk.breaker import BreakerConfig, FailureBreaker
from app.risk.chain import RiskChain
from app.risk.guards import HaltRule
from app.risk.rules import MaxExposureRule
from app.risk.sizing import FixedFractionalSizer, SizingConfig
from app.services.lease_holder import LEASE_RECHECK_S
from app.services.reconciler import Reconciler
from app.services.risk_keeper import RiskKeeper
from app.services.signal_consumer import SignalConsumer
from tests.builders import OPEN_NS, SECOND


@dataclass
class Rig:
    ledger: SqlLedger
    lease: SqlLease
    store: SqlRiskStateStore
    bus: InProcessBus
    clock: SimClock
    broker: SimBroker
    consumer: SignalConsumer
    task: asyncio.Task[None]

    async def stop(self) -> None:
        self.consumer.request_stop()
        async with asyncio.timeout(10):
            await self.task
        await self.lease.close()
        await self.store.close()

    async def close(self) -> None:
        """Stop, and close the ledger too (tests that restart keep theirs open)."""
        await self.stop()
        await self.ledger.close()


def sim_venue() -> SimVenue:
    config = VenueConfig(
        starting_cash=Decimal("100000"),
        latency_ns=0,
        buying_power_multiplier=Decimal("4"),
        fill_model=FillModel(slippage_bps=Decimal("0"), participation=Decimal("1")),
    )
    return SimVenue(config, ids=SequentialIds("v"))


async def start_executor(
    url: str,
    *,
    broker_type: type[SimBroker] = SimBroker,
    ledger_type: type[SqlLedger] = SqlLedger,
    lease_type: type[SqlLease] = SqlLease,
    venue: SimVenue | None = None,
    holder: str = "t",
    bus: InProcessBus | None = None,
    wait_ready: bool = True,
    chain: RiskChain | None = None,
    collar_bps: str = "50",
    max_position: str = "10000",
    breaker: BreakerConfig | None = None,
    lease_recheck_s: float = LEASE_RECHECK_S,
    start_ns: int = OPEN_NS,
    order_ttl_s: int = 30,
    reconcile: bool = False,
) -> Rig:
    ledger = ledger_type(url)
    await ledger.start()
    bus = bus or InProcessBus()
    clock = SimClock(start_ns)
    broker = broker_type(venue or sim_venue(), clock)
    engine = ExecutionEngine(
        portfolio=Portfolio(starting_cash=Decimal("100000")),
        sizer=FixedFractionalSizer(SizingConfig(Decimal("0.5"), Decimal(max_position))),
        risk=chain or RiskChain([HaltRule(), MaxExposureRule(limit=Decimal("50000"))]),
        risk_book=RiskBook(RiskLimits()),
        entry_collar_bps=Decimal(collar_bps),
        order_ttl_ns=order_ttl_s * SECOND,
    )
    lease = lease_type(url)
    await lease.start()
    store = SqlRiskStateStore(url)
    await store.start()
    keeper = RiskKeeper(
        engine=engine,
        store=store,
        broker=broker,
        breaker=FailureBreaker(breaker or BreakerConfig(), BreakerState("broker.sim")),
        bus=bus,
        clock=clock,
        actor=holder,
        refresh_s=0.05,
    )
    consumer = SignalConsumer(
        engine=engine,
        ledger=ledger,
        broker=broker,
        bus=bus,
        clock=clock,
        lease=lease,
        keeper=keeper,
        consumer=holder,
        resolve_every_s=0.05,
        lease_recheck_s=lease_recheck_s,
        reconciler=Reconciler(store=store, actor=holder, bus=bus) if reconcile else None,
    )
    task = asyncio.create_task(consumer.run())
    if wait_ready:
        async with asyncio.timeout(10):
            await consumer.ready.wait()
    return Rig(ledger, lease, store, bus, clock, broker, consumer, task)


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll a condition the service reaches on its own, for at most 10 s."""
    async with asyncio.timeout(10):
        while not await check():  # noqa: ASYNC110 - the condition lives in the database
            await asyncio.sleep(0.01)
