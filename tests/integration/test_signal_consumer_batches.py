"""A batch of signals at the executor: one lease check and one decision transaction for the
batch, the lease checked again only when it is older than the bound, a breaker opened half-way
holding back the rest, and a redelivered signal that cannot crowd out a new one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from pathlib import Path

import pytest

from app.brokers.sim.broker import SimBroker
from app.brokers.sim.venue import SimVenue
from app.bus.codec import encode
from app.bus.topics import SIGNALS
from app.domain.decision import Decision
from app.domain.ids import client_order_id_for
from app.domain.market import Tick
from app.domain.order import Order, OrderStatus
from app.domain.signal import Signal
from app.persistence.lease import SqlLease
from app.persistence.ledger import SqlLedger
from app.persistence.migrate import upgrade
from app.ports.broker import BrokerUnavailable
from app.ports.clock import Clock
from app.risk.breaker import BreakerConfig
from app.risk.chain import RiskChain
from app.risk.rules import StrategyCapitalRule
from tests.builders import OPEN_NS, entry_signal
from tests.integration.executor_rig import Rig, sim_venue, start_executor, until

SYMBOLS = ("AAA", "BBB", "CCC")


class CountingLease(SqlLease):
    """Counts the verifications; everything else is the SQL lease."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.verified = 0

    async def verify(self, token: int) -> bool:
        self.verified += 1
        return await super().verify(token)


class CountingLedger(SqlLedger):
    """Remembers the size of every batch of decisions written."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.batches: list[int] = []

    async def record_decisions(
        self, decided: Sequence[tuple[Signal, Decision, Order | None]]
    ) -> list[bool]:
        self.batches.append(len(decided))
        return await super().record_decisions(decided)


class DownBroker(SimBroker):
    """A venue that cannot be reached: every submit fails before anything is sent."""

    def __init__(self, venue: SimVenue, clock: Clock) -> None:
        super().__init__(venue, clock)
        self.attempts = 0

    async def submit(self, order: Order) -> None:
        self.attempts += 1
        raise BrokerUnavailable("connection refused")


@pytest.fixture
async def url(tmp_path: Path) -> AsyncIterator[str]:
    database = f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"
    await upgrade(database)
    yield database


async def _publish_entries(rig: Rig) -> list[str]:
    """An entry on each of SYMBOLS; the in-process bus takes them without yielding, so the
    executor reads them as one batch. Returns their dedup keys."""
    keys = [f"k-{symbol}" for symbol in SYMBOLS]
    for symbol, key in zip(SYMBOLS, keys, strict=True):
        await rig.bus.publish(SIGNALS, encode(entry_signal(symbol=symbol, key=key)))
    return keys


def _priced() -> SimVenue:
    venue = sim_venue()
    for symbol in SYMBOLS:
        venue.on_tick(Tick(symbol, OPEN_NS, 10.0, 100, 1))
    return venue


async def _statuses(rig: Rig, keys: Sequence[str]) -> list[OrderStatus | None]:
    orders = [await rig.ledger.get_order(client_order_id_for(key)) for key in keys]
    return [None if order is None else order.status for order in orders]


async def _trade_entries(url: str, *, recheck_s: float) -> tuple[Rig, list[str]]:
    rig = await start_executor(
        url,
        venue=_priced(),
        ledger_type=CountingLedger,
        lease_type=CountingLease,
        lease_recheck_s=recheck_s,
    )
    keys = await _publish_entries(rig)

    async def all_accepted() -> bool:
        return await _statuses(rig, keys) == [OrderStatus.ACCEPTED] * len(keys)

    await until(all_accepted)
    await rig.stop()
    await rig.ledger.close()
    return rig, keys


async def test_a_batch_is_decided_in_one_transaction_under_one_lease_check(url: str) -> None:
    rig, keys = await _trade_entries(url, recheck_s=60.0)
    assert isinstance(rig.ledger, CountingLedger) and isinstance(rig.lease, CountingLease)
    assert rig.ledger.batches == [len(keys)]
    assert rig.lease.verified == 1
    assert sorted(rig.broker.venue.ledger.orders) == sorted(map(client_order_id_for, keys))


async def test_each_send_checks_the_lease_again_once_the_last_check_is_too_old(
    url: str,
) -> None:
    rig, keys = await _trade_entries(url, recheck_s=0.0)
    assert isinstance(rig.lease, CountingLease)
    assert rig.lease.verified == 1 + len(keys)


async def test_failures_that_open_the_breaker_hold_back_the_rest_of_the_batch(url: str) -> None:
    rig = await start_executor(
        url, venue=_priced(), broker_type=DownBroker, breaker=BreakerConfig(threshold=2)
    )
    keys = await _publish_entries(rig)

    async def all_answered() -> bool:
        return OrderStatus.PENDING_NEW not in await _statuses(rig, keys)

    await until(all_answered)
    await rig.stop()
    assert isinstance(rig.broker, DownBroker) and rig.broker.attempts == 2
    assert await _statuses(rig, keys) == [
        OrderStatus.UNKNOWN,
        OrderStatus.UNKNOWN,
        OrderStatus.REJECTED,
    ]
    withheld = await rig.ledger.get_order(client_order_id_for(keys[2]))
    assert withheld is not None and withheld.reason == "not sent: broker breaker opened"
    await rig.ledger.close()


async def test_a_redelivered_signal_does_not_crowd_out_a_new_one_in_its_batch(url: str) -> None:
    """The capital limit has room for one entry. A signal refused earlier comes back beside a new
    one, is decided first (the arbiter orders a batch by symbol) and would be approved now; the
    ledger knows it is decided, so the new one is decided again without it, and trades."""
    venue = sim_venue()
    for symbol in ("ABC", "XYZ"):
        venue.on_tick(Tick(symbol, OPEN_NS, 10.0, 100, 1))
    chain = RiskChain([StrategyCapitalRule(limits={"s": Decimal("500")})])
    rig = await start_executor(url, venue=venue, chain=chain, collar_bps="0", max_position="500")
    old = entry_signal(symbol="ABC", key="old", stop=5.0)
    assert await rig.ledger.record_signal(old, Decision(approved=False, reason="earlier"))
    new = entry_signal(symbol="XYZ", key="new", stop=5.0)
    for signal in (old, new):  # one batch, as above
        await rig.bus.publish(SIGNALS, encode(signal))

    async def both_decided() -> bool:
        return rig.consumer.decisions == 2 and await _statuses(rig, ["new"]) == [
            OrderStatus.ACCEPTED
        ]

    await until(both_decided)
    await rig.stop()
    assert list(venue.ledger.orders) == [client_order_id_for("new")]
    counts = await rig.ledger.counts()
    assert (counts.signals, counts.orders) == (2, 1)
    (earlier,) = await rig.ledger.recent_signals(1, symbol="ABC")
    assert earlier.decision.reason == "earlier"
    await rig.ledger.close()
