"""IbkrBroker through the real ib_async client against the fake TWS: every order operation,
lookups (also from a fresh client), positions, account and execution reports."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.brokers.ibkr.orders import StopSpec, TrailSpec
from app.domain.execution import ReportKind
from app.domain.order import OrderStatus
from app.domain.signal import Side
from app.ports.broker import Broker, BrokerAccount, BrokerPosition, OrderRejected
from tests.builders import OPEN_NS
from tests.fakes.tws.harness import Stack, ib_stack, make_order, running_tws
from tests.redis_harness import eventually


async def filled(stack: Stack, coid: str, qty: str) -> None:
    await eventually(
        lambda: sum(r.last_qty or 0 for r in stack.fills(coid)) == Decimal(qty),
        timeout_s=3,
        what=f"{coid} filled {qty}",
    )


async def test_market_order_is_acked_filled_and_reported_once() -> None:
    async with running_tws() as fake, ib_stack(fake) as stack:
        broker: Broker = stack.broker
        fake.trade("ABC", "10.00")
        await broker.submit(make_order("m-1"))
        await filled(stack, "m-1", "100")

        (venue,) = fake.orders_with_ref("m-1")
        (execution,) = fake.ledger.executions
        assert stack.kinds("m-1") == [ReportKind.ACCEPTED, ReportKind.FILL]
        (fill,) = stack.fills("m-1")
        assert (fill.execution_id, fill.last_qty, fill.last_price, fill.fee) == (
            execution.exec_id,
            Decimal(100),
            Decimal("10"),
            Decimal("1.00"),
        )
        assert (fill.side, fill.symbol, fill.ts_ns) == (Side.BUY, "ABC", OPEN_NS)
        assert fill.broker_order_id == str(venue.perm_id)
        seen = await broker.order_by_client_id("m-1")
        assert seen is not None
        assert (seen.status, seen.qty, seen.filled_qty, seen.avg_fill_price) == (
            OrderStatus.FILLED,
            Decimal(100),
            Decimal(100),
            Decimal("10.00000000"),
        )


async def test_limit_order_rests_until_the_price_comes() -> None:
    async with running_tws() as fake, ib_stack(fake) as stack:
        fake.trade("ABC", "10.00")
        await stack.broker.submit(make_order("l-1", limit="9.50"))
        assert stack.kinds("l-1") == [ReportKind.ACCEPTED]
        (venue,) = fake.orders_with_ref("l-1")
        assert (venue.order_type, venue.lmt) == ("LMT", Decimal("9.50"))

        fake.trade("ABC", "9.40")
        await filled(stack, "l-1", "100")
        assert stack.fills("l-1")[0].last_price == Decimal("9.4")


@pytest.mark.parametrize(
    ("stop", "order_type", "prices", "fill_price"),
    [
        (StopSpec(stop_price=Decimal("9.00")), "STP", ["9.50", "8.90"], "8.90"),
        (TrailSpec(percent=Decimal(5)), "TRAIL", ["11.00", "10.50", "10.40"], "10.40"),
        (TrailSpec(amount=Decimal("0.50")), "TRAIL", ["11.00", "10.60", "10.50"], "10.50"),
    ],
)
async def test_native_stop_orders_trigger_at_the_venue(
    stop: StopSpec | TrailSpec, order_type: str, prices: list[str], fill_price: str
) -> None:
    async with running_tws() as fake, ib_stack(fake) as stack:
        fake.trade("ABC", "10.00")
        await stack.broker.submit(make_order("s-1", side=Side.SELL), stop=stop)
        (venue,) = fake.orders_with_ref("s-1")
        assert venue.order_type == order_type
        assert (venue.aux, venue.trailing_percent) == (
            getattr(stop, "stop_price", None) or getattr(stop, "amount", None),
            getattr(stop, "percent", None),
        )
        for price in prices[:-1]:
            fake.trade("ABC", price)
        fake.trade("ABC", prices[-1])
        await filled(stack, "s-1", "100")
        (fill,) = stack.fills("s-1")
        assert (fill.side, fill.last_price) == (Side.SELL, Decimal(fill_price))


async def test_stop_limit_order_carries_both_prices() -> None:
    async with running_tws() as fake, ib_stack(fake) as stack:
        order = make_order("sl-1", side=Side.SELL, limit="8.80")
        await stack.broker.submit(order, stop=StopSpec(stop_price=Decimal("9.00")))
        (venue,) = fake.orders_with_ref("sl-1")
        assert (venue.order_type, venue.aux, venue.lmt) == (
            "STP LMT",
            Decimal("9.00"),
            Decimal("8.80"),
        )


async def test_cancel_ends_the_order_once() -> None:
    async with running_tws() as fake, ib_stack(fake) as stack:
        fake.trade("ABC", "10.00")
        await stack.broker.submit(make_order("c-1", limit="9.00"))
        await stack.broker.cancel("c-1")
        await eventually(lambda: ReportKind.CANCELED in stack.kinds("c-1"), what="canceled")

        seen = await stack.broker.order_by_client_id("c-1")
        assert seen is not None and seen.status is OrderStatus.CANCELED
        assert fake.orders_with_ref("c-1")[0].status == "Cancelled"
        with pytest.raises(OrderRejected, match="not open"):
            await stack.broker.cancel("c-1")
        assert stack.kinds("c-1") == [ReportKind.ACCEPTED, ReportKind.CANCELED]


async def test_cancel_by_the_venue_is_reported() -> None:
    async with running_tws() as fake, ib_stack(fake) as stack:
        fake.trade("ABC", "10.00")
        await stack.broker.submit(make_order("v-1", limit="9.00"))
        fake.cancel_at_venue("v-1")
        await eventually(lambda: ReportKind.CANCELED in stack.kinds("v-1"), what="canceled")


async def test_replace_modifies_the_same_ib_order_in_place() -> None:
    async with running_tws() as fake, ib_stack(fake) as stack:
        fake.trade("ABC", "10.00")
        await stack.broker.submit(make_order("r-1", limit="9.00"))
        fake.execute("r-1", "40", "9.00")
        await filled(stack, "r-1", "40")

        await stack.broker.replace(
            "r-1", new_client_order_id="r-2", qty=Decimal(150), limit_price=Decimal("9.20")
        )

        (venue,) = fake.ledger.orders.values()
        assert (venue.ref, venue.qty, venue.lmt, venue.filled) == (
            "r-2",
            Decimal(150),
            Decimal("9.20"),
            Decimal(40),
        )
        assert len(fake.requests_of(3)) == 2  # one new order, one modify of the same id
        assert {int(r[1]) for r in fake.requests_of(3)} == {venue.order_id}
        await eventually(lambda: stack.kinds("r-2") == [ReportKind.ACCEPTED], what="accepted")
        assert stack.kinds("r-1") == [ReportKind.ACCEPTED, ReportKind.FILL, ReportKind.REPLACED]
        old = await stack.broker.order_by_client_id("r-1")
        new = await stack.broker.order_by_client_id("r-2")
        assert old is not None and new is not None
        assert (old.status, old.qty, old.filled_qty) == (
            OrderStatus.REPLACED,
            Decimal(100),
            Decimal(40),
        )
        assert (new.status, new.qty, new.filled_qty) == (
            OrderStatus.ACCEPTED,
            Decimal(110),
            Decimal(0),
        )

        fake.trade("ABC", "9.10")
        await filled(stack, "r-2", "110")
        done = await stack.broker.order_by_client_id("r-2")
        assert done is not None
        assert (done.status, done.qty, done.filled_qty) == (
            OrderStatus.FILLED,
            Decimal(110),
            Decimal(110),
        )


async def test_replace_below_the_filled_quantity_is_refused() -> None:
    async with running_tws() as fake, ib_stack(fake) as stack:
        await stack.broker.submit(make_order("q-1", limit="9.00"))
        fake.execute("q-1", "40", "9.00")
        await filled(stack, "q-1", "40")
        with pytest.raises(OrderRejected, match="not above filled"):
            await stack.broker.replace("q-1", new_client_order_id="q-2", qty=Decimal(40))
        assert fake.orders_with_ref("q-1")[0].qty == Decimal(100)


async def test_a_refused_replace_leaves_the_order_working_as_it_was() -> None:
    async with running_tws() as fake, ib_stack(fake) as stack:
        await stack.broker.submit(make_order("rr-1", limit="9.00"))
        fake.faults.reject_symbols["ABC"] = "price too far"
        with pytest.raises(OrderRejected, match="price too far"):
            await stack.broker.replace(
                "rr-1", new_client_order_id="rr-2", limit_price=Decimal("12.00")
            )

        (venue,) = fake.ledger.orders.values()
        assert (venue.ref, venue.lmt, venue.status) == ("rr-1", Decimal("9.00"), "Submitted")
        seen = await stack.broker.order_by_client_id("rr-1")
        assert seen is not None and seen.status is OrderStatus.ACCEPTED
        assert await stack.broker.order_by_client_id("rr-2") is None
        assert stack.kinds("rr-1") == [ReportKind.ACCEPTED]


async def test_venue_rejection_raises_and_is_reported() -> None:
    async with running_tws() as fake, ib_stack(fake) as stack:
        fake.faults.reject_symbols["ABC"] = "no shares to borrow"
        with pytest.raises(OrderRejected, match="no shares to borrow"):
            await stack.broker.submit(make_order("x-1", side=Side.SELL))

        await eventually(lambda: ReportKind.REJECTED in stack.kinds("x-1"), what="rejected")
        seen = await stack.broker.order_by_client_id("x-1")
        assert seen is not None and seen.status is OrderStatus.REJECTED
        with pytest.raises(OrderRejected, match="refused"):
            await stack.broker.submit(make_order("x-1", side=Side.SELL))
        assert len(fake.requests_of(3)) == 1


async def test_partial_fills_sent_twice_are_booked_once() -> None:
    async with running_tws() as fake, ib_stack(fake) as stack:
        fake.faults.duplicate_exec_details = True
        fake.ledger.max_fill_qty = Decimal(30)
        fake.trade("ABC", "10.00")
        await stack.broker.submit(make_order("p-1"))
        for price in ("10.01", "10.02", "10.03"):
            fake.trade("ABC", price)
        await filled(stack, "p-1", "100")

        fills = stack.fills("p-1")
        assert [f.last_qty for f in fills] == [Decimal(30), Decimal(30), Decimal(30), Decimal(10)]
        assert [f.execution_id for f in fills] == [e.exec_id for e in fake.ledger.executions]
        seen = await stack.broker.order_by_client_id("p-1")
        assert seen is not None
        assert (seen.status, seen.filled_qty, seen.avg_fill_price) == (
            OrderStatus.FILLED,
            Decimal(100),
            Decimal("10.01200000"),
        )


async def test_fill_before_the_ack_is_booked_with_its_fee() -> None:
    async with running_tws() as fake, ib_stack(fake) as stack:
        fake.faults.fill_before_ack = True
        fake.trade("ABC", "10.00")
        await stack.broker.submit(make_order("f-1", qty="1000"))
        await filled(stack, "f-1", "1000")
        (fill,) = stack.fills("f-1")
        assert fill.fee == Decimal("5.00")
        seen = await stack.broker.order_by_client_id("f-1")
        assert seen is not None and seen.status is OrderStatus.FILLED


async def test_positions_and_account_values() -> None:
    async with running_tws() as fake, ib_stack(fake) as stack:
        fake.trade("ABC", "10.00")
        await stack.broker.submit(make_order("a-1"))
        await filled(stack, "a-1", "100")

        assert await stack.broker.positions() == [
            BrokerPosition(symbol="ABC", qty=Decimal(100), avg_price=Decimal("10.00000000"))
        ]
        expected = BrokerAccount(
            cash=Decimal("98999.00"), equity=Decimal("99999.00"), buying_power=Decimal("399996.00")
        )
        await eventually(lambda: _account_is(stack, expected), what="account values after the fill")


async def _account_is(stack: Stack, expected: BrokerAccount) -> bool:
    return await stack.broker.account() == expected


async def test_lookup_of_an_order_the_venue_never_saw() -> None:
    async with running_tws() as fake, ib_stack(fake) as stack:
        assert await stack.broker.order_by_client_id("nope") is None
        assert len(fake.requests_of(16)) == 1  # it asked the venue before saying so


async def test_a_fresh_client_finds_orders_and_replays_fills_once() -> None:
    async with running_tws() as fake:
        async with ib_stack(fake) as first:
            fake.trade("ABC", "10.00")
            await first.broker.submit(make_order("d-1"))
            await first.broker.submit(make_order("d-2", limit="9.00"))
            await filled(first, "d-1", "100")

        async with ib_stack(fake) as second:
            done = await second.broker.order_by_client_id("d-1")
            working = await second.broker.order_by_client_id("d-2")
            assert done is not None and working is not None
            assert (done.status, done.filled_qty) == (OrderStatus.FILLED, Decimal(100))
            assert (working.status, working.broker_order_id) == (
                OrderStatus.ACCEPTED,
                str(fake.orders_with_ref("d-2")[0].perm_id),
            )
            await eventually(lambda: second.fills("d-1"), what="the fill replayed")
            assert [f.execution_id for f in second.fills("d-1")] == [
                fake.ledger.executions[0].exec_id
            ]
            await second.broker.submit(make_order("d-1"))  # already at the venue: not again
            assert len(fake.requests_of(3)) == 2
            await second.broker.cancel("d-2")
            await eventually(lambda: ReportKind.CANCELED in second.kinds("d-2"), what="cancel")


async def test_a_fresh_client_lists_the_sessions_orders_and_executions() -> None:
    async with running_tws() as fake:
        async with ib_stack(fake) as first:
            fake.trade("ABC", "10.00")
            await first.broker.submit(make_order("s-1"))
            await first.broker.submit(make_order("s-2", limit="9.00"))
            await filled(first, "s-1", "100")

        async with ib_stack(fake) as second:
            listed = await second.broker.orders(since_ns=0)
            by_id = {seen.client_order_id: seen for seen in listed}
            assert set(by_id) == {"s-1", "s-2"}
            assert (by_id["s-1"].status, by_id["s-1"].filled_qty) == (
                OrderStatus.FILLED,
                Decimal(100),
            )
            assert by_id["s-2"].status is OrderStatus.ACCEPTED
            fills = await second.broker.fills(since_ns=0)
            assert [(f.client_order_id, f.execution_id, f.last_qty) for f in fills] == [
                ("s-1", fake.ledger.executions[0].exec_id, Decimal(100))
            ]
            assert await second.broker.fills(since_ns=fills[0].ts_ns + 1) == []
