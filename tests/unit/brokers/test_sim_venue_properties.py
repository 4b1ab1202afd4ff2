"""Properties of SimVenue over random order flow and tapes: no overfill, exact accounting."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from hypothesis import event, given, settings
from hypothesis import strategies as st

from app.brokers.sim.fill_model import FillModel
from app.brokers.sim.venue import SimVenue
from app.brokers.sim.venue_config import VenueConfig
from app.domain.execution import ExecutionReport, ReportKind
from app.domain.ids import SequentialIds
from app.domain.market import Quote, Tick
from app.domain.money import ZERO
from app.domain.order import TimeInForce
from app.domain.signal import Side
from app.ports.broker import OrderRejected
from tests.unit.brokers.sim_builders import make_order

SYMBOLS = ("ABC", "XYZ")
STEP_NS = 100


@dataclass(frozen=True)
class Submit:
    symbol: str
    side: Side
    qty: int
    limit_offset_cents: int | None
    tif: TimeInForce


@dataclass(frozen=True)
class Print:
    symbol: str
    cents: int
    size: int


@dataclass(frozen=True)
class QuoteTop:
    symbol: str
    bid_cents: int
    spread_cents: int


@dataclass(frozen=True)
class Cancel:
    pick: int


@dataclass(frozen=True)
class Replace:
    pick: int
    qty: int | None
    limit_offset_cents: int | None


Action = Submit | Print | QuoteTop | Cancel | Replace

symbols = st.sampled_from(SYMBOLS)
offsets = st.none() | st.integers(-30, 30)
prints = st.builds(Print, symbols, st.integers(960, 1040), st.integers(0, 500))
submits = st.builds(
    Submit,
    symbols,
    st.sampled_from(Side),
    st.integers(1, 400),
    offsets,
    st.sampled_from(TimeInForce),
)
action = st.one_of(
    submits,
    submits,
    st.builds(QuoteTop, symbols, st.integers(960, 1040), st.integers(0, 5)),
    st.builds(Cancel, st.integers(0, 100)),
    st.builds(Replace, st.integers(0, 100), st.none() | st.integers(1, 500), offsets),
)
actions: st.SearchStrategy[list[Action]] = st.lists(
    st.tuples(action, st.lists(prints, min_size=1, max_size=4)), min_size=3, max_size=40
).map(lambda rounds: [step for first, tape in rounds for step in (first, *tape)])
configs = st.builds(
    VenueConfig,
    starting_cash=st.sampled_from([Decimal("5000"), Decimal("100000")]),
    latency_ns=st.sampled_from([0, STEP_NS, 3 * STEP_NS]),
    buying_power_multiplier=st.sampled_from([Decimal("1"), Decimal("4")]),
    reject_insufficient_buying_power=st.booleans(),
    fill_model=st.builds(
        FillModel,
        slippage_bps=st.sampled_from([ZERO, Decimal("5"), Decimal("25")]),
        spread_aware=st.booleans(),
        participation=st.sampled_from([Decimal("0.1"), Decimal("0.5"), Decimal("1")]),
        fee_per_share=st.sampled_from([ZERO, Decimal("0.005")]),
        fee_min=st.sampled_from([None, Decimal("1.00")]),
    ),
    fill_before_ack=st.booleans(),
    duplicate_fill_reports=st.booleans(),
)


def _cents(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


class _Run:
    """Drives a venue with actions and remembers what the test needs to check it."""

    def __init__(self, config: VenueConfig) -> None:
        self.venue = SimVenue(config, ids=SequentialIds("p"))
        self.received: dict[str, int] = {}
        self.marks: dict[str, Decimal] = {}
        self.reports: list[ExecutionReport] = []

    def play(self, steps: list[Action]) -> None:
        for symbol in SYMBOLS:
            self.venue.on_tick(Tick(symbol=symbol, ts_ns=0, price=10.0, size=0))
            self.marks[symbol] = Decimal("10.00")
        for index, action in enumerate(steps):
            now = (index + 1) * STEP_NS
            with contextlib.suppress(OrderRejected):
                self._act(action, client_order_id=f"o{index}", now=now)
            self.reports += self.venue.drain_reports()
        self.venue.expire_day_orders((len(steps) + 10) * STEP_NS)
        self.reports += self.venue.drain_reports()

    def _act(self, action: Action, *, client_order_id: str, now: int) -> None:
        known = list(self.received)
        match action:
            case Submit(symbol, side, qty, offset, tif):
                limit = None if offset is None else str(_cents(1000 + offset))
                order = make_order(
                    client_order_id, side=side, qty=str(qty), limit=limit, tif=tif, symbol=symbol
                )
                self.venue.submit(order, now_ns=now)
                self.received[client_order_id] = now
            case Print(symbol, cents, size):
                self.venue.on_tick(Tick(symbol=symbol, ts_ns=now, price=cents / 100, size=size))
                self.marks[symbol] = _cents(cents)
            case QuoteTop(symbol, bid, spread):
                self.venue.on_quote(
                    Quote(
                        symbol=symbol,
                        ts_ns=now,
                        bid=bid / 100,
                        ask=(bid + spread) / 100,
                        bid_size=1,
                        ask_size=1,
                    )
                )
            case Cancel(pick) if known:
                self.venue.cancel(known[pick % len(known)], now_ns=now)
            case Replace(pick, qty, offset) if known:
                old = self.venue.ledger.orders[known[pick % len(known)]]
                new_limit = None
                if offset is not None and old.limit_price is not None:
                    new_limit = _cents(1000 + offset)
                self.venue.replace(
                    old.client_order_id,
                    new_client_order_id=client_order_id,
                    qty=None if qty is None else Decimal(qty),
                    limit_price=new_limit,
                    now_ns=now,
                )
                self.received[client_order_id] = now


@settings(max_examples=200, deadline=None)
@given(config=configs, steps=actions)
def test_fills_never_exceed_orders_and_accounting_is_exact(
    config: VenueConfig, steps: list[Action]
) -> None:
    run = _Run(config)
    run.play(steps)
    ledger = run.venue.ledger
    event(f"executions: {min(len(ledger.executions), 10) // 5 * 5}+")

    filled: defaultdict[str, Decimal] = defaultdict(lambda: ZERO)
    for execution in ledger.executions:
        filled[execution.client_order_id] += execution.qty
        assert execution.ts_ns >= run.received[execution.client_order_id] + config.latency_ns
    for client_order_id, order in ledger.orders.items():
        assert filled[client_order_id] == order.filled_qty <= order.qty
        assert not order.is_open or order.tif is not TimeInForce.DAY

    execution_ids = [e.execution_id for e in ledger.executions]
    assert len(set(execution_ids)) == len(execution_ids)
    reported = {r.execution_id for r in run.reports if r.kind is ReportKind.FILL}
    assert reported == set(execution_ids)

    cash = config.starting_cash - sum(
        (e.qty * e.price * e.side.sign + e.fee for e in ledger.executions), start=ZERO
    )
    net: defaultdict[str, Decimal] = defaultdict(lambda: ZERO)
    for execution in ledger.executions:
        net[execution.symbol] += execution.qty * execution.side.sign
    account = run.venue.account()
    assert account.cash == cash
    assert {p.symbol: p.qty for p in run.venue.positions()} == {
        s: q for s, q in net.items() if q != ZERO
    }
    marked = sum((q * run.marks[s] for s, q in net.items()), start=ZERO)
    assert account.equity == cash + marked


@settings(max_examples=100, deadline=None)
@given(config=configs, steps=actions)
def test_acks_come_before_fills_unless_the_fault_knob_is_set(
    config: VenueConfig, steps: list[Action]
) -> None:
    run = _Run(config)
    run.play(steps)
    acked: set[str] = set()
    for report in run.reports:
        if report.kind is ReportKind.ACCEPTED:
            acked.add(report.client_order_id)
        elif report.kind is ReportKind.FILL and not config.fill_before_ack:
            assert report.client_order_id in acked
    filled_orders = {r.client_order_id for r in run.reports if r.kind is ReportKind.FILL}
    assert filled_orders <= acked
