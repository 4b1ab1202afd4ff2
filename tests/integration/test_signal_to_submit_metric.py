"""The executor's signal -> submit histogram (L3's figure): one observation per order submitted
from a signal, none for a signal that is refused or replayed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from app.brokers.sim.broker import SimBroker
from app.brokers.sim.fill_model import FillModel
from app.brokers.sim.venue import SimVenue
from app.brokers.sim.venue_config import VenueConfig
from app.bus.codec import encode
from app.bus.inprocess import InProcessBus
from app.bus.topics import SIGNALS
from app.clocks.sim import SimClock
from app.domain.ids import SequentialIds
from app.domain.signal import Signal
from app.engine.execution import ExecutionEngine
from app.engine.portfolio import Portfolio
from app.persistence.lease import SqlLease
from app.persistence.ledger import SqlLedger
from app.persistence.migrate import upgrade
from app.persistence.risk_state import SqlRiskStateStore
from app.ports.risk_state import BreakerState
from app.risk.book import RiskBook, RiskLimits
from app.risk.breaker import BreakerConfig, FailureBreaker
from app.risk.chain import RiskChain
from app.risk.guards import HaltRule
from app.risk.sizing import FixedFractionalSizer, SizingConfig
from app.services.risk_keeper import RiskKeeper
from app.services.signal_consumer import SignalConsumer
from tests.builders import OPEN_NS, SECOND, entry_signal

METRIC = "trader_execution_signal_to_submit_seconds_count"


def _observed() -> float:
    return REGISTRY.get_sample_value(METRIC) or 0.0


@dataclass
class Rig:
    consumer: SignalConsumer
    bus: InProcessBus
    task: asyncio.Task[None]

    async def publish(self, signal: Signal) -> None:
        await self.bus.publish(SIGNALS, encode(signal))

    async def stop_after(self, *, decisions: int, observed: float) -> None:
        """Wait until the consumer has decided and observed that many, then drain it."""
        async with asyncio.timeout(10):
            while self.consumer.decisions < decisions or _observed() < observed:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        self.consumer.request_stop()
        async with asyncio.timeout(10):
            await self.task


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    """A running signal consumer on a SQLite ledger, an in-process bus and the simulated venue."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"
    await upgrade(url)
    ledger, lease, store = SqlLedger(url), SqlLease(url), SqlRiskStateStore(url)
    for part in (ledger, lease, store):
        await part.start()
    clock, bus = SimClock(OPEN_NS), InProcessBus()
    venue = SimVenue(
        VenueConfig(
            starting_cash=Decimal("100000"),
            latency_ns=0,
            buying_power_multiplier=Decimal("4"),
            fill_model=FillModel(slippage_bps=Decimal("0"), participation=Decimal("1")),
        ),
        ids=SequentialIds("v"),
    )
    broker = SimBroker(venue, clock)
    engine = ExecutionEngine(
        portfolio=Portfolio(starting_cash=Decimal("100000")),
        sizer=FixedFractionalSizer(SizingConfig(Decimal("0.5"), Decimal("10000"))),
        risk=RiskChain([HaltRule()]),
        risk_book=RiskBook(RiskLimits()),
        entry_collar_bps=Decimal("50"),
        order_ttl_ns=30 * SECOND,
    )
    keeper = RiskKeeper(
        engine=engine,
        store=store,
        broker=broker,
        breaker=FailureBreaker(BreakerConfig(), BreakerState("broker.sim")),
        bus=bus,
        clock=clock,
        actor="t",
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
        consumer="t",
        resolve_every_s=0.05,
    )
    task = asyncio.create_task(consumer.run())
    async with asyncio.timeout(10):
        await consumer.ready.wait()
    yield Rig(consumer, bus, task)
    consumer.request_stop()
    async with asyncio.timeout(10):
        await task
    for part in (lease, store, ledger):
        await part.close()


async def test_each_submitted_order_is_observed_once(rig: Rig) -> None:
    before = _observed()
    signal = entry_signal(key="observed")
    await rig.publish(signal)
    await rig.publish(signal)  # a redelivery is decided again but submits nothing
    await rig.publish(entry_signal(symbol="XYZ", key="second"))
    await rig.stop_after(decisions=3, observed=before + 2)
    assert _observed() - before == 2


async def test_a_refused_signal_is_not_observed(rig: Rig) -> None:
    before = _observed()
    await rig.publish(entry_signal(stop=None, key="unsized"))  # cannot be sized: refused
    await rig.stop_after(decisions=1, observed=before)
    assert _observed() == before
