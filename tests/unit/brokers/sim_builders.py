"""Builders for simulated-venue tests: orders, prints, quotes and venues with deterministic ids."""

from __future__ import annotations

from decimal import Decimal

from app.brokers.sim.fill_model import FillModel
from app.brokers.sim.venue import SimVenue
from app.brokers.sim.venue_config import VenueConfig
from app.domain.execution import ExecutionReport, ReportKind
from app.domain.ids import SequentialIds
from app.domain.market import Quote, Tick
from app.domain.order import Order, OrderType, TimeInForce
from app.domain.signal import Side

SYMBOL = "ABC"


def make_order(
    client_order_id: str = "o-1",
    *,
    side: Side = Side.BUY,
    qty: str = "100",
    limit: str | None = None,
    tif: TimeInForce = TimeInForce.DAY,
    symbol: str = SYMBOL,
) -> Order:
    return Order(
        client_order_id=client_order_id,
        strategy="test",
        symbol=symbol,
        side=side,
        qty=Decimal(qty),
        order_type=OrderType.MARKET if limit is None else OrderType.LIMIT,
        created_ns=0,
        signal_key=f"key-{client_order_id}",
        limit_price=None if limit is None else Decimal(limit),
        tif=tif,
    )


def make_tick(ts_ns: int, price: float, size: int = 1_000, *, symbol: str = SYMBOL) -> Tick:
    return Tick(symbol=symbol, ts_ns=ts_ns, price=price, size=size)


def make_quote(ts_ns: int, bid: float, ask: float, *, symbol: str = SYMBOL) -> Quote:
    return Quote(symbol=symbol, ts_ns=ts_ns, bid=bid, ask=ask, bid_size=100, ask_size=100)


def make_venue(
    *,
    cash: str = "100000",
    latency_ns: int = 0,
    multiplier: str = "1",
    check_buying_power: bool = True,
    fill_before_ack: bool = False,
    duplicate_fill_reports: bool = False,
    fills: FillModel | None = None,
) -> SimVenue:
    config = VenueConfig(
        starting_cash=Decimal(cash),
        latency_ns=latency_ns,
        buying_power_multiplier=Decimal(multiplier),
        reject_insufficient_buying_power=check_buying_power,
        fill_model=fills if fills is not None else FillModel(spread_aware=False),
        fill_before_ack=fill_before_ack,
        duplicate_fill_reports=duplicate_fill_reports,
    )
    return SimVenue(config, ids=SequentialIds("t"))


def kinds(reports: list[ExecutionReport]) -> list[tuple[ReportKind, str]]:
    return [(report.kind, report.client_order_id) for report in reports]


def fills_of(reports: list[ExecutionReport]) -> list[tuple[Decimal | None, Decimal | None]]:
    """(last_qty, last_price) of every FILL report, in order."""
    return [(r.last_qty, r.last_price) for r in reports if r.kind is ReportKind.FILL]
