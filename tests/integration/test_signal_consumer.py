"""The execution service with real parts: SQLite ledger, in-process bus, simulated venue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from app.brokers.sim.broker import SimBroker
from app.bus.codec import decode, encode
from app.bus.inprocess import InProcessBus
from app.bus.topics import LOTS, SIGNALS
from app.domain.execution import ExecutionReport, ReportKind
from app.domain.ids import client_order_id_for
from app.domain.market import Tick, TickBatch
from app.domain.order import Order, OrderStatus, OrderType
from app.domain.position import LotUpdate
from app.persistence.lease import SqlLease
from app.persistence.migrate import upgrade
from app.persistence.tables import leases
from app.ports.broker import BrokerOrder, TransientBrokerError
from app.ports.lease import LeaseLost
from app.ports.risk_state import Halt, HaltKind
from app.risk.chain import RiskChain
from app.risk.rules import StrategyCapitalRule
from tests.builders import OPEN_NS, SECOND, entry_signal
from tests.integration.executor_rig import Rig, sim_venue, start_executor, until


class AmbiguousBroker(SimBroker):
    """The venue takes the order but every acknowledgement is lost: the submit raises like a
    reset connection and the ACCEPTED report never arrives, so only a lookup can tell."""

    async def submit(self, order: Order) -> None:
        await super().submit(order)
        raise TransientBrokerError("connection reset after send")

    async def reports(self) -> AsyncGenerator[ExecutionReport, None]:
        async for report in super().reports():
            if report.kind is not ReportKind.ACCEPTED:
                yield report


@pytest.fixture
async def url(tmp_path: Path) -> AsyncIterator[str]:
    database = f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"
    await upgrade(database)
    yield database


async def _print(rig: Rig, *, seq: int, price: float = 10.0) -> None:
    tick = Tick("ABC", OPEN_NS + seq * SECOND, price, 10_000, seq)
    await rig.broker.on_batch(TickBatch(ticks=[tick]))


async def _status(rig: Rig, coid: str) -> OrderStatus | None:
    order = await rig.ledger.get_order(coid)
    return None if order is None else order.status


async def test_signal_becomes_one_order_one_fill_and_a_lot_update(url: str) -> None:
    rig = await start_executor(url)
    await _print(rig, seq=0)
    signal = entry_signal()
    coid = client_order_id_for(signal.dedup_key)
    await rig.bus.publish(SIGNALS, encode(signal))
    await rig.bus.publish(SIGNALS, encode(signal))  # replayed: must not trade twice
    await until(lambda: _is(rig, coid, OrderStatus.SUBMITTED, OrderStatus.ACCEPTED))
    await _print(rig, seq=1)
    await until(lambda: _is(rig, coid, OrderStatus.FILLED))
    lots = rig.bus.consume(LOTS, group="test", consumer="t")
    (delivery,) = await anext(lots)
    update = decode(delivery.payload, LotUpdate)
    assert update.lot.entry_order_id == coid and update.lot.qty_open == Decimal("1000")
    assert not update.exit_working
    await rig.stop()
    assert len(rig.broker.venue.ledger.orders) == 1
    counts = await rig.ledger.counts()
    assert (counts.signals, counts.orders, counts.fills) == (1, 1, 1)
    await rig.ledger.close()


async def _is(rig: Rig, coid: str, *wanted: OrderStatus) -> bool:
    return await _status(rig, coid) in wanted


async def test_ambiguous_submit_goes_unknown_and_is_resolved_by_lookup(url: str) -> None:
    rig = await start_executor(url, broker_type=AmbiguousBroker)
    await _print(rig, seq=0)
    signal = entry_signal()
    coid = client_order_id_for(signal.dedup_key)
    await rig.bus.publish(SIGNALS, encode(signal))
    await until(lambda: _is(rig, coid, OrderStatus.UNKNOWN, OrderStatus.ACCEPTED))
    await until(lambda: _is(rig, coid, OrderStatus.ACCEPTED))
    stored = await rig.ledger.get_order(coid)
    assert stored is not None and stored.reason == "resolved by lookup"
    await _print(rig, seq=1)
    await until(lambda: _is(rig, coid, OrderStatus.FILLED))
    await rig.stop()
    assert list(rig.broker.venue.ledger.orders) == [coid]
    await rig.ledger.close()


async def test_restart_submits_a_committed_intent_once(url: str) -> None:
    first = await start_executor(url)
    await first.stop()
    intent = Order(
        client_order_id="tr-intent",
        strategy="s",
        symbol="ABC",
        side=entry_signal().side,
        qty=Decimal("10"),
        order_type=OrderType.MARKET,
        created_ns=OPEN_NS,
        signal_key="intent",
        ref_price=Decimal("10"),
        expires_ns=OPEN_NS + 30 * SECOND,
    )
    assert await first.ledger.insert_order(intent)
    await first.ledger.close()
    venue = sim_venue()
    venue.on_tick(Tick("ABC", OPEN_NS, 10.0, 100, 1))
    second = await start_executor(url, venue=venue)
    await until(lambda: _is(second, "tr-intent", OrderStatus.SUBMITTED, OrderStatus.ACCEPTED))
    seen: BrokerOrder | None = await second.broker.order_by_client_id("tr-intent")
    assert seen is not None
    await second.stop()
    await second.ledger.close()
    third = await start_executor(url, venue=venue)  # same venue, restarted consumer: no resubmit
    await third.stop()
    assert list(venue.ledger.orders) == ["tr-intent"]
    await third.ledger.close()


async def test_restart_expires_an_intent_past_its_ttl(url: str) -> None:
    first = await start_executor(url)
    await first.stop()
    stale = Order(
        client_order_id="tr-stale",
        strategy="s",
        symbol="ABC",
        side=entry_signal().side,
        qty=Decimal("10"),
        order_type=OrderType.MARKET,
        created_ns=OPEN_NS - 60 * SECOND,
        signal_key="stale",
        expires_ns=OPEN_NS - 30 * SECOND,
    )
    assert await first.ledger.insert_order(stale)
    await first.ledger.close()
    venue = sim_venue()
    second = await start_executor(url, venue=venue)
    await second.stop()
    assert await _status(second, "tr-stale") is OrderStatus.EXPIRED
    assert venue.ledger.orders == {}
    await second.ledger.close()


async def test_two_executors_only_the_lease_holder_trades(url: str) -> None:
    venue = sim_venue()
    venue.on_tick(Tick("ABC", OPEN_NS, 10.0, 100, 1))
    bus = InProcessBus()
    active = await start_executor(url, venue=venue, holder="a", bus=bus)
    standby = await start_executor(url, venue=venue, holder="b", bus=bus, wait_ready=False)
    first = entry_signal(symbol="ABC", key="one")
    await bus.publish(SIGNALS, encode(first))
    await until(lambda: _is(active, client_order_id_for("one"), OrderStatus.ACCEPTED))
    assert not standby.consumer.ready.is_set()
    await active.stop()  # a rolling update: the old executor hands over
    async with asyncio.timeout(10):
        await standby.consumer.ready.wait()
    second = entry_signal(symbol="XYZ", key="two")
    venue.on_tick(Tick("XYZ", OPEN_NS, 5.0, 100, 1))
    await bus.publish(SIGNALS, encode(second))
    await until(lambda: _is(standby, client_order_id_for("two"), OrderStatus.ACCEPTED))
    await standby.stop()
    assert sorted(venue.ledger.orders) == sorted(
        [client_order_id_for("one"), client_order_id_for("two")]
    )
    await active.ledger.close()
    await standby.ledger.close()


async def test_a_fenced_executor_refuses_to_trade(url: str) -> None:
    venue = sim_venue()
    venue.on_tick(Tick("ABC", OPEN_NS, 10.0, 100, 1))
    rig = await start_executor(url, venue=venue, holder="a")
    usurper = SqlLease(url)
    await usurper.start()
    async with usurper._db.connect() as connection, connection.begin():
        await connection.execute(leases.update().values(expires_ms=0))  # a lost lease
    assert await usurper.acquire(holder="b", ttl_ms=60_000) is not None
    await rig.bus.publish(SIGNALS, encode(entry_signal()))
    async with asyncio.timeout(10):
        with pytest.raises(ExceptionGroup) as raised:
            await rig.task
    assert raised.group_contains(LeaseLost)
    assert venue.ledger.orders == {}
    assert (await rig.ledger.counts()).orders == 0
    await usurper.close()
    await rig.lease.close()
    await rig.store.close()
    await rig.ledger.close()


async def test_capital_limit_holds_under_fifty_simultaneous_entries(url: str) -> None:
    """S13: fifty $500 entries at once against a $10,000 strategy limit: exactly 20 go."""
    venue = sim_venue()
    symbols = [f"S{i:02d}" for i in range(50)]
    for symbol in symbols:
        venue.on_tick(Tick(symbol, OPEN_NS, 10.0, 100, 1))
    chain = RiskChain([StrategyCapitalRule(limits={"s": Decimal("10000")})])
    rig = await start_executor(url, venue=venue, chain=chain, collar_bps="0", max_position="500")
    signals = [entry_signal(symbol=symbol, key=f"k{symbol}", stop=5.0) for symbol in symbols]
    await asyncio.gather(*(rig.bus.publish(SIGNALS, encode(signal)) for signal in signals))

    async def all_decided() -> bool:
        return (await rig.ledger.counts()).signals == 50

    await until(all_decided)
    await rig.stop()  # the batch's orders go out after its decisions are committed
    assert len(venue.ledger.orders) == 20
    assert (await rig.ledger.counts()).orders == 20
    assert rig.consumer.engine.view.strategy_exposure("s") == Decimal("10000.00")
    await rig.ledger.close()


async def test_a_halted_strategy_stays_halted_across_a_restart(url: str) -> None:
    """S11 at the executor: a halt in the database refuses entries, also after a restart."""
    venue = sim_venue()
    venue.on_tick(Tick("ABC", OPEN_NS, 10.0, 100, 1))
    rig = await start_executor(url, venue=venue)
    await rig.store.halt(Halt("s", HaltKind.KILL_SWITCH, "operator", OPEN_NS, "test"))
    await until(lambda: _true(rig.consumer.engine.risk_book.halt_for("s") is not None))
    await rig.bus.publish(SIGNALS, encode(entry_signal(key="while-halted")))

    async def decided() -> bool:
        return (await rig.ledger.counts()).signals == 1

    await until(decided)
    await rig.stop()
    await rig.ledger.close()
    again = await start_executor(url, venue=venue)
    assert again.consumer.engine.risk_book.halt_for("s") is not None
    await again.bus.publish(SIGNALS, encode(entry_signal(key="after-restart")))

    async def both_decided() -> bool:
        return (await again.ledger.counts()).signals == 2

    await until(both_decided)
    await again.stop()
    assert venue.ledger.orders == {}
    await again.ledger.close()


async def _true(value: bool) -> bool:
    return value


async def test_an_entry_the_price_ran_away_from_is_cancelled_after_its_ttl(url: str) -> None:
    rig = await start_executor(url)
    await _print(rig, seq=0)
    signal = entry_signal()
    coid = client_order_id_for(signal.dedup_key)
    await rig.bus.publish(SIGNALS, encode(signal))
    await until(lambda: _is(rig, coid, OrderStatus.ACCEPTED))
    await _print(rig, seq=1, price=11.0)  # far above the 10.05 limit: nothing fills
    assert await _status(rig, coid) is OrderStatus.ACCEPTED
    rig.clock.advance_by(31 * SECOND)  # past the 30 s order TTL
    await until(lambda: _is(rig, coid, OrderStatus.CANCELED))
    assert rig.consumer.engine.view.committed_exposure() == 0
    await rig.stop()
    await rig.ledger.close()
