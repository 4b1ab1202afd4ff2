"""The IB session when the connection misbehaves: dropped, refused, silent, slow, and TWS's
connectivity notices. Backoff delays are checked against the injected random source."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.brokers.ibkr.broker import IbkrBroker
from app.brokers.ibkr.gaps import GapReason, StreamGap
from app.brokers.ibkr.session import IbkrSession
from app.clocks.sim import SimClock
from app.domain.execution import ReportKind
from app.domain.order import OrderStatus
from app.ports.broker import BrokerUnavailable, TransientBrokerError
from tests.builders import OPEN_NS, SECOND
from tests.fakes.tws.harness import JITTER, fast_config, ib_stack, make_order, running_tws
from tests.fakes.tws.messages import REQ_MKT_DATA
from tests.redis_harness import eventually

SYMBOLS = ("ABC", "XYZ")


async def test_reconnects_with_full_jitter_and_restores_subscriptions_exactly() -> None:
    clock = SimClock(OPEN_NS)
    async with running_tws(clock) as fake, ib_stack(fake, symbols=SYMBOLS, clock=clock) as stack:
        await eventually(lambda: fake.subscriptions() == list(SYMBOLS), what="subscribed")
        fake.faults.refuse_connections = True
        fake.drop_connections()
        await eventually(lambda: not stack.session.connected, what="connection lost")
        assert stack.feed.stale
        clock.advance_by(5 * SECOND)
        await eventually(lambda: fake.refused >= 4, what="four refused attempts")
        fake.faults.refuse_connections = False
        await eventually(lambda: stack.gaps, what="a gap marker")

        assert stack.session.connected and stack.session.reconnects == 1
        assert stack.gaps == [
            StreamGap(from_ns=OPEN_NS, to_ns=OPEN_NS + 5 * SECOND, reason=GapReason.RECONNECTED)
        ]
        ceilings = [min(0.1, 0.02 * 2**n) for n in range(len(stack.sleeps))]
        assert stack.sleeps == [JITTER * ceiling for ceiling in ceilings]
        assert fake.max_concurrent == 1
        assert fake.subscriptions() == list(SYMBOLS)
        assert not stack.feed.stale


async def test_ticks_flow_again_after_a_reconnect() -> None:
    async with running_tws() as fake, ib_stack(fake, symbols=["ABC"]) as stack:
        await eventually(lambda: fake.subscriptions() == ["ABC"], what="subscribed")
        fake.drop_connections()
        await eventually(lambda: stack.gaps, what="reconnected")
        await eventually(lambda: fake.subscriptions() == ["ABC"], what="resubscribed")

        stream = stack.feed.stream()
        fake.trade("ABC", "10.10", 300)
        batch = await anext(stream)
        assert [(t.symbol, t.price, t.size) for t in batch.ticks] == [("ABC", 10.1, 300)]


async def test_submit_when_the_connection_drops_is_unknown_then_resolved_by_lookup() -> None:
    async with running_tws() as fake, ib_stack(fake) as stack:
        fake.trade("ABC", "10.00")
        fake.faults.drop_on_place = True
        with pytest.raises(TransientBrokerError):
            await stack.broker.submit(make_order("u-1"))
        fake.faults.drop_on_place = False
        await eventually(lambda: stack.gaps, what="reconnected")

        seen = await stack.broker.order_by_client_id("u-1")
        assert seen is not None
        assert (seen.status, seen.filled_qty) == (OrderStatus.FILLED, Decimal(100))
        await eventually(lambda: stack.fills("u-1"), what="the fill swept after reconnecting")
        assert len(fake.orders_with_ref("u-1")) == 1
        assert len(stack.fills("u-1")) == 1


async def test_an_unanswered_submit_is_unknown_and_the_late_ack_resolves_it() -> None:
    async with running_tws() as fake, ib_stack(fake, request_timeout_s=0.2) as stack:
        fake.faults.delay_s = 0.4
        with pytest.raises(TransientBrokerError, match="no answer"):
            await stack.broker.submit(make_order("t-1", limit="9.00"))
        await eventually(lambda: fake.orders_with_ref("t-1"), what="the venue got it")
        fake.faults.delay_s = 0.0

        await eventually(lambda: ReportKind.ACCEPTED in stack.kinds("t-1"), what="late ack")
        seen = await stack.broker.order_by_client_id("t-1")
        assert seen is not None and seen.status is OrderStatus.ACCEPTED


async def test_submit_while_disconnected_is_unavailable() -> None:
    async with running_tws() as fake, ib_stack(fake) as stack:
        port = fake.port
        await fake.stop()
        await eventually(lambda: not stack.session.connected, what="connection lost")
        with pytest.raises(BrokerUnavailable):
            await stack.broker.submit(make_order("w-1"))
        with pytest.raises(BrokerUnavailable):
            await stack.broker.positions()

        await fake.start(port=port)
        await eventually(lambda: stack.session.connected, what="reconnected")
        await stack.broker.submit(make_order("w-1", limit="9.00"))
        assert len(fake.orders_with_ref("w-1")) == 1


async def test_start_against_a_refusing_gateway_is_unavailable() -> None:
    async with running_tws() as fake:
        fake.faults.refuse_connections = True
        session = IbkrSession(
            fast_config(fake.port, initial_attempts=3),
            clock=SimClock(OPEN_NS),
            random=lambda: 0.0,
        )
        with pytest.raises(BrokerUnavailable, match="after 3 attempts"):
            await session.start()
        await session.close()
        assert fake.refused == 3


async def test_a_silent_socket_is_probed_and_recycled() -> None:
    async with (
        running_tws() as fake,
        ib_stack(fake, symbols=["ABC"], silence_timeout_s=0.1) as stack,
    ):
        await eventually(lambda: fake.subscriptions() == ["ABC"], what="subscribed")
        fake.silence()
        await eventually(lambda: stack.gaps, what="recycled", timeout_s=3)
        assert stack.gaps[0].reason is GapReason.RECONNECTED
        await eventually(lambda: fake.subscriptions() == ["ABC"], what="resubscribed")


async def test_notice_1101_renews_every_subscription() -> None:
    clock = SimClock(OPEN_NS)
    async with running_tws(clock) as fake, ib_stack(fake, symbols=SYMBOLS, clock=clock) as stack:
        await eventually(lambda: fake.subscriptions() == list(SYMBOLS), what="subscribed")
        fake.notice(1100)
        await eventually(lambda: stack.feed.stale, what="stale on 1100")
        clock.advance_by(3 * SECOND)
        fake.notice(1101)
        await eventually(lambda: stack.gaps, what="gap on 1101")

        assert stack.gaps == [
            StreamGap(from_ns=OPEN_NS, to_ns=OPEN_NS + 3 * SECOND, reason=GapReason.DATA_LOST)
        ]
        assert fake.subscriptions() == list(SYMBOLS)
        assert len(fake.requests_of(REQ_MKT_DATA)) == 2 * len(SYMBOLS)
        assert not stack.feed.stale and stack.session.reconnects == 0


async def test_notice_1102_keeps_the_subscriptions() -> None:
    async with running_tws() as fake, ib_stack(fake, symbols=SYMBOLS) as stack:
        await eventually(lambda: fake.subscriptions() == list(SYMBOLS), what="subscribed")
        fake.notice(1100)
        await eventually(lambda: stack.feed.stale, what="stale on 1100")
        fake.notice(1102)
        await eventually(lambda: stack.gaps, what="gap on 1102")

        assert [g.reason for g in stack.gaps] == [GapReason.DATA_MAINTAINED]
        assert len(fake.requests_of(REQ_MKT_DATA)) == len(SYMBOLS)
        assert not stack.feed.stale


async def test_notice_2110_changes_nothing() -> None:
    async with running_tws() as fake, ib_stack(fake, symbols=["ABC"]) as stack:
        await eventually(lambda: fake.subscriptions() == ["ABC"], what="subscribed")
        fake.notice(2110)
        await stack.broker.positions()  # a round trip: the notice has been read by now

        assert stack.gaps == []
        assert len(fake.requests_of(REQ_MKT_DATA)) == 1
        assert stack.session.connected and not stack.feed.stale


async def test_listeners_join_before_the_session_starts() -> None:
    async with running_tws() as fake, ib_stack(fake) as stack:
        with pytest.raises(RuntimeError, match="before starting"):
            IbkrBroker(stack.session, clock=stack.clock)


async def test_a_drop_after_notice_1100_reports_one_gap_from_the_notice() -> None:
    clock = SimClock(OPEN_NS)
    async with running_tws(clock) as fake, ib_stack(fake, symbols=["ABC"], clock=clock) as stack:
        fake.notice(1100)
        await eventually(lambda: stack.feed.stale, what="stale on 1100")
        clock.advance_by(2 * SECOND)
        fake.drop_connections()
        await eventually(lambda: stack.gaps, what="reconnected")

        assert stack.gaps == [
            StreamGap(from_ns=OPEN_NS, to_ns=OPEN_NS + 2 * SECOND, reason=GapReason.RECONNECTED)
        ]
        assert not stack.feed.stale
