"""S17: startup reconciliation against a divergent venue, with real parts: SQLite ledger and risk
state, in-process bus, the simulated venue behind SimBroker, and the executor itself.

The venue outlives the executor: a test commits an order and sends it, the executor is down
while the venue acts (fills, or holds a position nobody booked), then an executor starts and the
test checks what reconciliation made of it before the executor trades.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from app.brokers.sim.broker import SimBroker
from app.brokers.sim.fill_model import FillModel
from app.brokers.sim.venue import SimVenue
from app.brokers.sim.venue_config import VenueConfig
from app.bus.codec import decode, encode
from app.bus.inprocess import InProcessBus
from app.bus.topics import SIGNALS, UI_EVENTS
from app.clocks.sim import SimClock
from app.domain.execution import ExecutionReport
from app.domain.ids import SequentialIds
from app.domain.market import Tick, TickBatch
from app.domain.order import Order, OrderStatus, OrderType
from app.domain.signal import Side
from app.engine.execution import ExecutionEngine
from app.engine.portfolio import Portfolio
from app.persistence.engine import make_engine
from app.persistence.ledger import SqlLedger
from app.persistence.migrate import upgrade
from app.persistence.risk_state import SqlRiskStateStore
from app.persistence.tables import fills
from app.ports.broker import BrokerOrder, BrokerPosition, BrokerUnavailable
from app.ports.ledger import LedgerCounts
from app.ports.risk_state import GLOBAL, Halt, HaltKind
from app.risk.book import RiskBook, RiskLimits
from app.risk.chain import RiskChain
from app.risk.guards import HaltRule
from app.risk.sizing import FixedFractionalSizer, SizingConfig
from app.services.reconciler import Reconciler, ReconcileReport
from tests.builders import OPEN_NS, SECOND, entry_signal
from tests.integration.executor_rig import Rig, start_executor

SYMBOL = "ABC"
BACK_NS = OPEN_NS + 10 * SECOND  # when the executor comes back


class BlindBroker(SimBroker):
    """A venue that cannot list its executions: missed fills get derived execution ids."""

    async def fills(self, *, since_ns: int) -> list[ExecutionReport]:
        return []


class GatedBroker(SimBroker):
    """Answers reconciliation's first question only once the test opens the gate."""

    def __init__(self, venue: SimVenue, clock: SimClock) -> None:
        super().__init__(venue, clock)
        self.asked = asyncio.Event()
        self.gate = asyncio.Event()

    async def orders(self, *, since_ns: int) -> list[BrokerOrder]:
        self.asked.set()
        await self.gate.wait()
        return await super().orders(since_ns=since_ns)


class DownAtFirstBroker(SimBroker):
    """A venue that cannot be reached for its first two lookups (still connecting)."""

    def __init__(self, venue: SimVenue, clock: SimClock) -> None:
        super().__init__(venue, clock)
        self.refused = 0

    async def orders(self, *, since_ns: int) -> list[BrokerOrder]:
        if self.refused < 2:
            self.refused += 1
            raise BrokerUnavailable("not connected to the venue yet")
        return await super().orders(since_ns=since_ns)


@pytest.fixture
async def url(tmp_path: Path) -> AsyncIterator[str]:
    database = f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"
    await upgrade(database)
    yield database


def _venue() -> SimVenue:
    config = VenueConfig(
        starting_cash=Decimal("100000"),
        buying_power_multiplier=Decimal("4"),
        fill_model=FillModel(slippage_bps=Decimal("0"), fee_per_share=Decimal("0.01")),
    )
    return SimVenue(config, ids=SequentialIds("v"))


def _engine() -> ExecutionEngine:
    return ExecutionEngine(
        portfolio=Portfolio(starting_cash=Decimal("100000")),
        sizer=FixedFractionalSizer(SizingConfig(Decimal("0.5"), Decimal("10000"))),
        risk=RiskChain([HaltRule()]),
        risk_book=RiskBook(RiskLimits()),
        order_ttl_ns=60 * SECOND,
    )


async def _start(
    url: str,
    venue: SimVenue,
    *,
    broker_type: type[SimBroker] = SimBroker,
    bus: InProcessBus | None = None,
    wait_ready: bool = True,
) -> Rig:
    """The executor as it reconciles: its own reconciler, on the day's clock, 60 s order TTL."""
    return await start_executor(
        url,
        venue=venue,
        broker_type=broker_type,
        bus=bus,
        wait_ready=wait_ready,
        holder="executor",
        chain=RiskChain([HaltRule()]),
        start_ns=BACK_NS,
        order_ttl_s=60,
        reconcile=True,
    )


def _entry(coid: str = "o-1", *, qty: str = "100") -> Order:
    return Order(
        client_order_id=coid,
        strategy="s",
        symbol=SYMBOL,
        side=Side.BUY,
        qty=Decimal(qty),
        order_type=OrderType.LIMIT,
        limit_price=Decimal("10.50"),
        ref_price=Decimal("10.00"),
        created_ns=OPEN_NS,
        signal_key=f"key-{coid}",
        status=OrderStatus.ACCEPTED,
        purpose="entry",
        expires_ns=OPEN_NS + 3600 * SECOND,
    )


async def _sent_before_the_crash(url: str, venue: SimVenue, order: Order) -> None:
    """The order as the ledger committed it and the venue took it, before the executor died."""
    ledger = SqlLedger(url)
    await ledger.start()
    assert await ledger.insert_order(order)
    await ledger.close()
    venue.on_tick(Tick(SYMBOL, OPEN_NS, 10.00, 10_000, 0))
    venue.submit(replace(order), now_ns=OPEN_NS)


def _print(venue: SimVenue, *, seq: int, price: float, size: int) -> Tick:
    tick = Tick(SYMBOL, OPEN_NS + seq * SECOND, price, size, seq)
    venue.on_tick(tick)
    return tick


async def _reconcile_afresh(
    url: str, venue: SimVenue, *, broker_type: type[SimBroker] = SimBroker
) -> tuple[ReconcileReport, LedgerCounts, int]:
    """A restarted executor's reconciliation: a fresh book loaded from the ledger; returns the
    report, the ledger's row counts and the number of audit entries afterwards."""
    ledger, store = SqlLedger(url), SqlRiskStateStore(url)
    await ledger.start()
    await store.start()
    try:
        engine = _engine()
        engine.portfolio.load(lots=await ledger.open_lots(), positions=await ledger.positions())
        engine.load(await ledger.open_orders())
        clock = SimClock(BACK_NS + 60 * SECOND)
        report = await Reconciler(store=store, actor="again").run(
            engine=engine, ledger=ledger, broker=broker_type(venue, clock), clock=clock
        )
        return report, await ledger.counts(), len(await store.audit_log(1_000))
    finally:
        await store.close()
        await ledger.close()


async def _state(url: str) -> tuple[LedgerCounts, int]:
    ledger, store = SqlLedger(url), SqlRiskStateStore(url)
    await ledger.start()
    await store.start()
    try:
        return await ledger.counts(), len(await store.audit_log(1_000))
    finally:
        await store.close()
        await ledger.close()


async def _fill_ids(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(select(fills.c.execution_id).order_by(fills.c.ts_ns))
            return [str(row[0]) for row in rows]
    finally:
        await engine.dispose()


async def _until(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll a condition the executor reaches on its own, for at most 10 s."""
    async with asyncio.timeout(10):
        while not await check():  # noqa: ASYNC110 - the condition lives in the database
            await asyncio.sleep(0.01)


async def _venue_position(venue: SimVenue) -> BrokerPosition:
    [position] = [p for p in venue.positions() if p.symbol == SYMBOL]
    return position


async def _assert_book_equals_venue(rig: Rig, venue: SimVenue, coid: str = "o-1") -> None:
    seen = venue.order(coid)
    stored = await rig.ledger.get_order(coid)
    assert seen is not None and stored is not None
    assert (stored.status, stored.filled_qty, stored.avg_fill_price) == (
        seen.status,
        seen.filled_qty,
        seen.avg_fill_price,
    )
    held = await _venue_position(venue)
    [lot] = await rig.ledger.open_lots()
    [position] = await rig.ledger.positions()
    assert (lot.qty_open, lot.avg_price) == (held.qty, held.avg_price)
    assert (position.qty, position.avg_cost) == (held.qty, held.avg_price)


# trading waits ------------------------------------------------------------------------------
async def test_trading_is_blocked_until_the_venue_is_reconciled(url: str) -> None:
    venue = _venue()
    venue.on_tick(Tick(SYMBOL, OPEN_NS, 10.00, 10_000, 0))
    rig = await _start(url, venue, broker_type=GatedBroker, wait_ready=False)
    assert isinstance(rig.broker, GatedBroker)
    await rig.bus.publish(SIGNALS, encode(entry_signal()))
    async with asyncio.timeout(10):
        await rig.broker.asked.wait()
    assert not rig.consumer.ready.is_set()
    assert (await rig.ledger.counts()).signals == 0
    assert venue.ledger.orders == {}
    rig.broker.gate.set()
    async with asyncio.timeout(10):
        await rig.consumer.ready.wait()

    async def decided() -> bool:
        return (await rig.ledger.counts()).orders == 1

    await _until(decided)
    await rig.close()


async def test_a_venue_not_reachable_at_startup_delays_trading_without_stopping_it(
    url: str,
) -> None:
    venue = _venue()
    venue.on_tick(Tick(SYMBOL, OPEN_NS, 10.00, 10_000, 0))
    rig = await _start(url, venue, broker_type=DownAtFirstBroker, wait_ready=False)
    assert isinstance(rig.broker, DownAtFirstBroker)
    await rig.bus.publish(SIGNALS, encode(entry_signal()))
    async with asyncio.timeout(10):
        await rig.consumer.ready.wait()
    assert rig.broker.refused == 2
    assert not rig.task.done()

    async def decided() -> bool:
        return (await rig.ledger.counts()).orders == 1

    await _until(decided)
    await rig.close()


# explainable differences ---------------------------------------------------------------------
async def test_an_order_filled_while_down_is_booked_once_as_the_venue_has_it(url: str) -> None:
    venue = _venue()
    await _sent_before_the_crash(url, venue, _entry())
    _print(venue, seq=1, price=10.02, size=10_000)
    venue.drain_reports()  # the executor was down: its reports are gone
    rig = await _start(url, venue)
    await _assert_book_equals_venue(rig, venue)
    assert await _fill_ids(url) == [venue.ledger.executions[0].execution_id]
    assert await rig.store.halts() == []
    await rig.close()

    counts, audit = await _state(url)
    again, counts_again, audit_again = await _reconcile_afresh(url, venue)
    assert (again.differences, again.actions) == ((), ())
    assert (counts_again, audit_again) == (counts, audit)


async def test_a_missing_partial_fill_is_booked_and_its_late_report_is_not(url: str) -> None:
    venue = _venue()
    await _sent_before_the_crash(url, venue, _entry())
    _print(venue, seq=1, price=10.02, size=40)  # 40 of 100; the reports wait at the venue
    rig = await _start(url, venue)
    stored = await rig.ledger.get_order("o-1")
    assert stored is not None
    assert (stored.status, stored.filled_qty) == (OrderStatus.PARTIALLY_FILLED, Decimal("40"))
    await rig.broker.tick()  # the reports of the fill arrive after all

    async def delivered() -> bool:
        return rig.broker.idle

    await _until(delivered)
    assert (await rig.ledger.counts()).fills == 1
    [lot] = await rig.ledger.open_lots()
    assert lot.qty_open == Decimal("40")

    tick = Tick(SYMBOL, OPEN_NS + 20 * SECOND, 10.10, 10_000, 2)
    rig.clock.advance_to(tick.ts_ns)
    await rig.broker.on_batch(TickBatch(ticks=[tick]))  # the rest fills, reported as usual

    async def filled() -> bool:
        order = await rig.ledger.get_order("o-1")
        return order is not None and order.status is OrderStatus.FILLED

    await _until(filled)
    await _assert_book_equals_venue(rig, venue)
    assert await _fill_ids(url) == [e.execution_id for e in venue.ledger.executions]
    await rig.close()


async def test_without_listed_executions_a_late_report_cannot_book_twice(url: str) -> None:
    venue = _venue()
    await _sent_before_the_crash(url, venue, _entry())
    _print(venue, seq=1, price=10.02, size=40)
    rig = await _start(url, venue, broker_type=BlindBroker)
    assert await _fill_ids(url) == ["recon:o-1:40"]
    await rig.broker.tick()  # the real report of those 40 shares comes late

    async def delivered() -> bool:
        return rig.broker.idle

    await _until(delivered)
    rig.consumer.request_reconcile()
    await rig.consumer.housekeep()
    assert await _fill_ids(url) == ["recon:o-1:40"]
    [lot] = await rig.ledger.open_lots()
    assert lot.qty_open == Decimal("40")

    tick = Tick(SYMBOL, OPEN_NS + 20 * SECOND, 10.10, 10_000, 2)
    rig.clock.advance_to(tick.ts_ns)
    await rig.broker.on_batch(TickBatch(ticks=[tick]))  # a genuine fill past the ceiling

    async def filled() -> bool:
        order = await rig.ledger.get_order("o-1")
        return order is not None and order.status is OrderStatus.FILLED

    await _until(filled)  # refused as reported, then booked by the reconciliation it asked for
    assert await _fill_ids(url) == ["recon:o-1:40", "recon:o-1:100"]
    await _assert_book_equals_venue(rig, venue)
    await rig.close()
    again, _, _ = await _reconcile_afresh(url, venue, broker_type=BlindBroker)
    assert (again.differences, again.actions) == ((), ())


# unexplainable differences -------------------------------------------------------------------
async def test_an_unknown_position_at_the_venue_halts_everything_and_alerts(url: str) -> None:
    venue = _venue()
    venue.seed_position("XYZ", qty=Decimal("300"), avg_price=Decimal("5.00"))
    bus = InProcessBus()
    events = bus.listen(UI_EVENTS)

    async def first_event() -> bytes:
        return await anext(events)

    alert = asyncio.create_task(first_event())
    await asyncio.sleep(0)  # the listener is registered
    rig = await _start(url, venue, bus=bus)
    [halt] = await rig.store.halts()
    assert (halt.scope, halt.kind, halt.actor) == (GLOBAL, HaltKind.UNEXPLAINED, "executor")
    assert "unknown_position XYZ" in halt.reason and "venue 300" in halt.reason
    assert rig.consumer.engine.risk_book.halt_for("s") == halt
    async with asyncio.timeout(10):
        assert decode(await alert, Halt) == halt
    assert await rig.ledger.positions() == []  # never "fixed" in the book
    await rig.close()
    await bus.close()

    counts, audit = await _state(url)
    again, counts_again, audit_again = await _reconcile_afresh(url, venue)
    assert [d.symbol for d in again.differences] == ["XYZ"]
    assert (again.actionable, again.actions) == ((), ())
    assert (counts_again, audit_again) == (counts, audit)


async def test_a_quantity_mismatch_halts_the_strategy_holding_the_symbol(url: str) -> None:
    venue = _venue()
    await _sent_before_the_crash(url, venue, _entry())
    _print(venue, seq=1, price=10.02, size=10_000)
    venue.drain_reports()
    venue.seed_position(SYMBOL, qty=Decimal("50"), avg_price=Decimal("9.00"))  # from nowhere
    rig = await _start(url, venue)
    [lot] = await rig.ledger.open_lots()
    assert lot.qty_open == Decimal("100")  # the explainable fill is booked, the rest is not
    [halt] = await rig.store.halts()
    assert (halt.scope, halt.kind) == ("s", HaltKind.UNEXPLAINED)
    assert "position_mismatch ABC" in halt.reason
    assert "ledger 100, venue 150" in halt.reason
    await rig.bus.publish(SIGNALS, encode(entry_signal(symbol="XYZ", key="after")))

    async def decided() -> bool:
        return (await rig.ledger.counts()).signals == 1

    await _until(decided)
    assert (await rig.ledger.counts()).orders == 1  # the halted strategy entered nothing
    await rig.close()

    again, _, _ = await _reconcile_afresh(url, venue)
    assert (again.actionable, again.actions) == ((), ())


# when it runs again --------------------------------------------------------------------------
async def test_a_new_trading_day_reconciles_again(url: str) -> None:
    venue = _venue()
    rig = await _start(url, venue)
    venue.seed_position("XYZ", qty=Decimal("300"), avg_price=Decimal("5.00"))
    await rig.consumer.housekeep()
    assert await rig.store.halts() == []  # reconciled today already, and nobody asked
    rig.clock.advance_by(24 * 3600 * SECOND)
    await rig.consumer.housekeep()
    [halt] = await rig.store.halts()
    assert (halt.scope, halt.kind) == (GLOBAL, HaltKind.UNEXPLAINED)
    await rig.close()


async def test_the_simulated_venue_lists_orders_and_executions_since_a_time(url: str) -> None:
    venue = _venue()
    await _sent_before_the_crash(url, venue, _entry("early"))
    later = replace(_entry("late"), created_ns=OPEN_NS + 5 * SECOND)
    venue.submit(later, now_ns=OPEN_NS + 5 * SECOND)
    _print(venue, seq=6, price=10.02, size=10_000)
    broker = SimBroker(venue, SimClock(BACK_NS))
    assert [o.client_order_id for o in await broker.orders(since_ns=OPEN_NS)] == ["early", "late"]
    [late] = await broker.orders(since_ns=OPEN_NS + SECOND)
    assert (late.client_order_id, late.created_ns) == ("late", OPEN_NS + 5 * SECOND)
    executions = await broker.fills(since_ns=OPEN_NS)
    assert [(e.client_order_id, e.last_qty) for e in executions] == [
        ("early", Decimal("100")),
        ("late", Decimal("100")),
    ]
    assert [e.execution_id for e in executions] == [e.execution_id for e in venue.ledger.executions]
    assert await broker.fills(since_ns=OPEN_NS + 7 * SECOND) == []
