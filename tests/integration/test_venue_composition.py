"""The venue as bootstrap composes it from settings, against the fake venues: the real adapter
classes, the watchlist subscribed, and every stream reconnect relayed to reconciliation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.bootstrap.runtime import VenueUnreachable
from app.bootstrap.venue_link import VenueLink
from app.bootstrap.venues import connect_venue
from app.brokers.alpaca.broker import AlpacaBroker
from app.brokers.alpaca.feed import AlpacaFeed
from app.brokers.ibkr.broker import IbkrBroker
from app.brokers.ibkr.feed import IbkrFeed
from app.bus.inprocess import InProcessBus
from app.clocks.live import LiveClock
from app.clocks.sim import SimClock
from app.persistence.ledger import SqlLedger
from app.persistence.migrate import upgrade
from app.settings import Settings
from tests.builders import OPEN_NS
from tests.fakes.alpaca.venue import FakeAlpaca
from tests.fakes.tws.harness import make_order, running_tws
from tests.redis_harness import eventually


def _alpaca_settings(venue: FakeAlpaca, **extra: Any) -> Settings:
    config = venue.config()
    return Settings.model_validate(
        {
            "venue": "alpaca",
            "feed": "venue",
            "symbols": "ABC,XYZ",
            "alpaca": {
                "key_id": venue.key_id,
                "secret_key": venue.secret_key,
                "base_url": config.base_url,
                "data_url": config.data_url,
                "trade_stream_url": config.trade_stream_url,
                "data_stream_url": config.data_stream_url,
                "request_timeout_s": 2.0,
            },
            **extra,
        }
    )


async def _close(link: VenueLink) -> None:
    if link.feed is not None:
        await link.feed.close()
    for close in link.closers:
        await close()


@pytest.fixture
async def ledger(tmp_path: Any) -> Any:
    url = f"sqlite+aiosqlite:///{tmp_path / 'trader.db'}"
    await upgrade(url)
    store = SqlLedger(url)
    await store.start()
    yield store
    await store.close()


async def test_alpaca_is_connected_with_its_feed_and_gaps_reach_reconciliation(
    ledger: SqlLedger,
) -> None:
    clock = LiveClock()
    async with FakeAlpaca(clock=clock) as venue:
        link = await connect_venue(
            _alpaca_settings(venue), clock=clock, ledger=ledger, bus=InProcessBus(), with_feed=True
        )
        asked: list[bool] = []
        link.gaps.bind(lambda: asked.append(True))
        try:
            assert isinstance(link.broker, AlpacaBroker)
            assert isinstance(link.feed, AlpacaFeed)
            first = asyncio.create_task(anext(link.feed.stream()))
            await eventually(
                lambda: (
                    [
                        venue.data_stream.subscriptions(c)["trades"]
                        for c in venue.data_stream.open_connections()
                    ]
                    == [{"ABC", "XYZ"}]
                ),
                what="the watchlist subscribed",
            )
            await venue.data_stream.publish_trade("XYZ", price=2.5, size=10, ts_ns=clock.now_ns())
            assert [t.symbol for t in (await first).ticks] == ["XYZ"]
            await venue.trade_stream.drop_all()
            await eventually(lambda: asked == [True], timeout_s=10, what="a gap relayed")
            assert link.gaps.count == 1
        finally:
            await _close(link)


async def test_an_unreachable_alpaca_refuses_to_start(ledger: SqlLedger) -> None:
    clock = LiveClock()
    async with FakeAlpaca(clock=clock) as venue:
        chosen = _alpaca_settings(venue)
    with pytest.raises(VenueUnreachable, match=r"Alpaca at http://127\.0\.0\.1"):
        await connect_venue(chosen, clock=clock, ledger=ledger, bus=InProcessBus())


async def test_ib_is_connected_with_its_feed_and_gaps_reach_reconciliation(
    ledger: SqlLedger,
) -> None:
    async with running_tws() as fake:
        chosen = Settings.model_validate(
            {
                "venue": "ibkr",
                "feed": "venue",
                "symbols": "ABC,XYZ",
                "ibkr": {"port": fake.port, "client_id": 7, "silence_timeout_s": None},
            }
        )
        link = await connect_venue(
            chosen, clock=SimClock(OPEN_NS), ledger=ledger, bus=InProcessBus(), with_feed=True
        )
        asked: list[bool] = []
        link.gaps.bind(lambda: asked.append(True))
        try:
            assert isinstance(link.broker, IbkrBroker)
            assert isinstance(link.feed, IbkrFeed)
            await eventually(lambda: fake.subscriptions() == ["ABC", "XYZ"], what="subscribed")
            fake.trade("ABC", "10.00")
            await link.broker.submit(make_order("c-1"))
            assert len(fake.orders_with_ref("c-1")) == 1
            fake.drop_connections()
            await eventually(lambda: asked == [True], timeout_s=10, what="a gap relayed")
            await eventually(lambda: fake.subscriptions() == ["ABC", "XYZ"], what="restored")
        finally:
            await _close(link)
