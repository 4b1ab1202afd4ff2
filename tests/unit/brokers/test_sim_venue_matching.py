"""SimVenue matching: prints drive fills, with latency, spread, slippage and participation."""

from __future__ import annotations

from decimal import Decimal

from app.brokers.sim.fill_model import FillModel
from app.domain.execution import ReportKind
from app.domain.market import TickBatch
from app.domain.order import OrderStatus, TimeInForce
from app.domain.signal import Side
from tests.unit.brokers.sim_builders import (
    fills_of,
    kinds,
    make_order,
    make_quote,
    make_tick,
    make_venue,
)

MS = 1_000_000


def test_market_order_fills_at_the_next_print_with_slippage() -> None:
    venue = make_venue(fills=FillModel(slippage_bps=Decimal("10"), spread_aware=False))
    venue.on_tick(make_tick(500, 20.0))
    venue.submit(make_order(qty="100"), now_ns=1_000)
    assert kinds(venue.drain_reports()) == [(ReportKind.ACCEPTED, "o-1")]

    venue.on_tick(make_tick(2_000, 20.0))

    reports = venue.drain_reports()
    assert fills_of(reports) == [(Decimal("100"), Decimal("20.02"))]
    assert reports[0].ts_ns == 2_000
    assert venue.account().cash == Decimal("97998.00")
    order = venue.order("o-1")
    assert order is not None
    assert order.status is OrderStatus.FILLED
    assert order.avg_fill_price == Decimal("20.02")


def test_market_sell_gets_the_print_less_slippage() -> None:
    venue = make_venue(fills=FillModel(slippage_bps=Decimal("10"), spread_aware=False))
    venue.on_tick(make_tick(500, 20.0))
    venue.submit(make_order(side=Side.SELL), now_ns=1_000)
    venue.on_tick(make_tick(2_000, 20.0))
    assert fills_of(venue.drain_reports()) == [(Decimal("100"), Decimal("19.98"))]


def test_spread_aware_fills_pay_the_ask_and_hit_the_bid() -> None:
    venue = make_venue(fills=FillModel(spread_aware=True))
    venue.on_batch(TickBatch(ticks=[make_tick(100, 10.0)], quotes=[make_quote(100, 9.98, 10.02)]))
    venue.submit(make_order("buy", side=Side.BUY), now_ns=1_000)
    venue.submit(make_order("sell", side=Side.SELL), now_ns=1_000)
    venue.on_tick(make_tick(2_000, 10.0))
    reports = venue.drain_reports()
    prices = {r.client_order_id: r.last_price for r in reports if r.kind is ReportKind.FILL}
    assert prices == {"buy": Decimal("10.02"), "sell": Decimal("9.98")}


def test_a_quote_stamped_with_a_print_is_seen_before_it() -> None:
    venue = make_venue(fills=FillModel(spread_aware=True))
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order(), now_ns=1_000)
    venue.on_batch(
        TickBatch(ticks=[make_tick(2_000, 10.0)], quotes=[make_quote(2_000, 9.99, 10.03)])
    )
    assert fills_of(venue.drain_reports()) == [(Decimal("100"), Decimal("10.03"))]


def test_a_crossed_quote_is_ignored_and_the_print_prices_the_fill() -> None:
    venue = make_venue(fills=FillModel(spread_aware=True))
    venue.on_quote(make_quote(50, 9.98, 10.02))
    venue.on_quote(make_quote(60, 10.05, 10.02))
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order(), now_ns=1_000)
    venue.on_tick(make_tick(2_000, 10.0))
    assert fills_of(venue.drain_reports()) == [(Decimal("100"), Decimal("10.00"))]
    assert venue.ledger.ignored_market_data == 1


def test_an_unusable_print_is_counted_and_ignored() -> None:
    venue = make_venue()
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order(), now_ns=1_000)
    venue.on_tick(make_tick(2_000, float("nan")))
    venue.on_tick(make_tick(2_001, -1.0))
    assert fills_of(venue.drain_reports()) == []
    assert venue.ledger.ignored_market_data == 2


def test_limit_buy_rests_until_a_print_trades_at_its_limit_and_fills_there() -> None:
    venue = make_venue()
    venue.on_tick(make_tick(100, 10.05))
    venue.submit(make_order(limit="10.00"), now_ns=1_000)
    venue.on_tick(make_tick(2_000, 10.05))
    venue.on_tick(make_tick(3_000, 10.01))
    assert fills_of(venue.drain_reports()) == []

    venue.on_tick(make_tick(4_000, 9.95))

    assert fills_of(venue.drain_reports()) == [(Decimal("100"), Decimal("10.00"))]


def test_limit_sell_fills_only_at_or_above_its_limit() -> None:
    venue = make_venue()
    venue.on_tick(make_tick(100, 9.95))
    venue.submit(make_order(side=Side.SELL, limit="10.00"), now_ns=1_000)
    venue.on_tick(make_tick(2_000, 9.99))
    assert fills_of(venue.drain_reports()) == []
    venue.on_tick(make_tick(3_000, 10.00))
    assert fills_of(venue.drain_reports()) == [(Decimal("100"), Decimal("10.00"))]


def test_marketable_limit_fills_at_the_first_print_or_better() -> None:
    venue = make_venue()
    venue.on_tick(make_tick(100, 10.00))
    venue.submit(make_order(limit="10.10"), now_ns=1_000)
    venue.on_tick(make_tick(2_000, 10.00))
    assert fills_of(venue.drain_reports()) == [(Decimal("100"), Decimal("10.00"))]


def test_big_order_fills_across_prints_by_participation() -> None:
    venue = make_venue(fills=FillModel(participation=Decimal("0.2"), spread_aware=False))
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order(qty="100"), now_ns=1_000)
    venue.on_batch(
        TickBatch(
            ticks=[
                make_tick(2_000, 10.00, 200),
                make_tick(3_000, 10.10, 200),
                make_tick(4_000, 10.20, 200),
                make_tick(5_000, 10.30, 200),
            ]
        )
    )
    reports = venue.drain_reports()
    assert [r.kind for r in reports] == [ReportKind.ACCEPTED] + [ReportKind.FILL] * 3
    assert fills_of(reports) == [
        (Decimal("40"), Decimal("10.00")),
        (Decimal("40"), Decimal("10.10")),
        (Decimal("20"), Decimal("10.20")),
    ]
    order = venue.order("o-1")
    assert order is not None
    assert order.status is OrderStatus.FILLED
    assert order.avg_fill_price == Decimal("10.08")
    assert venue.account().cash == Decimal("100000") - Decimal("1008.00")


def test_partial_fill_leaves_the_order_partially_filled() -> None:
    venue = make_venue(fills=FillModel(participation=Decimal("0.2"), spread_aware=False))
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order(qty="100"), now_ns=1_000)
    venue.on_tick(make_tick(2_000, 10.0, 3))
    order = venue.order("o-1")
    assert order is not None
    assert (order.status, order.filled_qty) == (OrderStatus.PARTIALLY_FILLED, Decimal("1"))


def test_one_print_is_shared_by_orders_in_time_priority() -> None:
    venue = make_venue(fills=FillModel(participation=Decimal("0.2"), spread_aware=False))
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order("first", qty="30"), now_ns=1_000)
    venue.submit(make_order("second", qty="30"), now_ns=1_000)
    venue.on_tick(make_tick(2_000, 10.0, 200))
    filled = [(r.client_order_id, r.last_qty) for r in venue.drain_reports() if r.last_qty]
    assert filled == [("first", Decimal("30")), ("second", Decimal("10"))]


def test_no_ack_and_no_fill_before_received_plus_latency() -> None:
    venue = make_venue(latency_ns=5 * MS)
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order(), now_ns=1_000)
    venue.on_tick(make_tick(1_000 + 5 * MS - 1, 10.0))
    assert venue.drain_reports() == []
    assert venue.ledger.orders["o-1"].status is OrderStatus.SUBMITTED

    venue.on_tick(make_tick(1_000 + 5 * MS, 10.0))

    reports = venue.drain_reports()
    assert [(r.kind, r.ts_ns) for r in reports] == [
        (ReportKind.ACCEPTED, 1_000 + 5 * MS),
        (ReportKind.FILL, 1_000 + 5 * MS),
    ]


def test_advance_emits_the_ack_without_market_data() -> None:
    venue = make_venue(latency_ns=5 * MS)
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order(limit="9.00"), now_ns=1_000)
    venue.advance(1_000 + 5 * MS - 1)
    assert venue.drain_reports() == []
    venue.advance(1_000 + 5 * MS)
    assert [(r.kind, r.ts_ns) for r in venue.drain_reports()] == [
        (ReportKind.ACCEPTED, 1_000 + 5 * MS)
    ]


def test_a_late_print_does_not_fill_an_order_that_was_not_live_yet() -> None:
    venue = make_venue(latency_ns=1_000)
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order(), now_ns=10_000)
    venue.advance(11_000)
    venue.on_tick(make_tick(10_500, 10.0))
    assert fills_of(venue.drain_reports()) == []


def test_ioc_takes_one_print_and_cancels_the_rest() -> None:
    venue = make_venue(fills=FillModel(participation=Decimal("0.2"), spread_aware=False))
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order(qty="100", limit="10.00", tif=TimeInForce.IOC), now_ns=1_000)
    venue.on_tick(make_tick(2_000, 10.0, 200))
    reports = venue.drain_reports()
    assert [r.kind for r in reports] == [
        ReportKind.ACCEPTED,
        ReportKind.FILL,
        ReportKind.CANCELED,
    ]
    assert reports[1].last_qty == Decimal("40")
    assert reports[2].reason == "ioc remainder"


def test_day_orders_expire_at_the_session_close_and_gtc_orders_stay() -> None:
    venue = make_venue()
    venue.on_tick(make_tick(100, 10.0))
    venue.submit(make_order("day", limit="9.00"), now_ns=1_000)
    venue.submit(make_order("gtc", limit="9.00", tif=TimeInForce.GTC), now_ns=1_000)
    venue.drain_reports()
    venue.expire_day_orders(5_000)
    assert kinds(venue.drain_reports()) == [(ReportKind.EXPIRED, "day")]
    day, gtc = venue.order("day"), venue.order("gtc")
    assert day is not None and gtc is not None
    assert (day.status, gtc.status) == (OrderStatus.EXPIRED, OrderStatus.ACCEPTED)
