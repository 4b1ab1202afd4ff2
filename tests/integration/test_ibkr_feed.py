"""IbkrFeed against the fake TWS: reqMktData ticks and quotes as TickBatches."""

from __future__ import annotations

from app.domain.market import Quote, Tick
from app.ports.feed import MarketDataFeed
from tests.builders import OPEN_NS
from tests.fakes.tws.harness import ib_stack, running_tws
from tests.fakes.tws.messages import REQ_CONTRACT_DETAILS, REQ_MKT_DATA
from tests.redis_harness import eventually


async def test_trades_and_quotes_arrive_as_ticks_and_quotes() -> None:
    async with running_tws() as fake, ib_stack(fake, symbols=["ABC", "XYZ"]) as stack:
        await eventually(lambda: fake.subscriptions() == ["ABC", "XYZ"], what="subscribed")
        feed: MarketDataFeed = stack.feed
        stream = feed.stream()

        fake.trade("ABC", "10.25", 300)
        assert (await anext(stream)).ticks == [Tick("ABC", OPEN_NS, 10.25, 300)]
        fake.quote("XYZ", "4.10", "4.12", bid_size=500, ask_size=700)
        batch = await anext(stream)
        assert (batch.ticks, batch.quotes) == ([], [Quote("XYZ", OPEN_NS, 4.1, 4.12, 500, 700)])


async def test_unknown_symbols_are_left_out_and_the_rest_subscribed() -> None:
    async with running_tws() as fake:
        fake.faults.unknown_symbols.add("NOPE")
        async with ib_stack(fake, symbols=["NOPE", "ABC"]) as stack:
            await eventually(lambda: fake.subscriptions() == ["ABC"], what="subscribed")
            assert stack.feed.unknown_symbols == {"NOPE"}
            assert stack.feed.subscribed == {"ABC"}


async def test_subscriptions_change_at_runtime_and_contracts_are_qualified_once() -> None:
    async with running_tws() as fake, ib_stack(fake, symbols=["ABC"]) as stack:
        await stack.feed.subscribe("XYZ")
        await eventually(lambda: fake.subscriptions() == ["ABC", "XYZ"], what="added")
        stack.feed.unsubscribe("ABC")
        await eventually(lambda: fake.subscriptions() == ["XYZ"], what="removed")
        fake.drop_connections()
        await eventually(lambda: stack.gaps, what="reconnected")
        await eventually(lambda: fake.subscriptions() == ["XYZ"], what="restored")

        assert len(fake.requests_of(REQ_CONTRACT_DETAILS)) == 2
        assert len(fake.requests_of(REQ_MKT_DATA)) == 3


async def test_muted_market_data_sends_nothing_and_the_session_stays_up() -> None:
    async with running_tws() as fake, ib_stack(fake, symbols=["ABC"]) as stack:
        await eventually(lambda: fake.subscriptions() == ["ABC"], what="subscribed")
        fake.faults.mute_market_data = True
        fake.trade("ABC", "10.00")
        await stack.broker.positions()  # a round trip: anything sent before has arrived
        fake.faults.mute_market_data = False
        fake.trade("ABC", "10.01")

        batch = await anext(stack.feed.stream())
        assert [t.price for t in batch.ticks] == [10.01]
        assert stack.session.connected and not stack.feed.stale


async def test_close_ends_the_stream_and_cancels_the_subscriptions() -> None:
    async with running_tws() as fake, ib_stack(fake, symbols=["ABC"]) as stack:
        await eventually(lambda: fake.subscriptions() == ["ABC"], what="subscribed")
        stream = stack.feed.stream()
        await stack.feed.close()

        assert [batch async for batch in stream] == []
        await eventually(lambda: fake.subscriptions() == [], what="cancelled")
