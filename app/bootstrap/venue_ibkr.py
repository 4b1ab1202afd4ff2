"""Interactive Brokers: the checked configuration and the TWS session its broker and market
data feed share. Imported only when IB is the venue."""

from __future__ import annotations

from app.bootstrap.runtime import ConfigurationError, VenueUnreachable
from app.bootstrap.venue_link import Closer, VenueLink
from app.brokers.ibkr.broker import IbkrBroker
from app.brokers.ibkr.config import IbkrConfig
from app.brokers.ibkr.feed import IbkrFeed
from app.brokers.ibkr.session import IbkrSession
from app.ports.broker import BrokerError
from app.ports.clock import Clock
from app.ports.feed import MarketDataFeed
from app.services.gap_relay import GapRelay
from app.settings import Settings

# The market-data connection of a sharded router logs in to IB beside the executor's: IB wants
# a client id of its own for each connection.
_FEED_CLIENT_OFFSET = 1


def ibkr_config(settings: Settings, *, client_offset: int = 0) -> IbkrConfig:
    section = settings.ibkr
    if settings.synthetic.anchor_ns is not None or settings.synthetic.speed != 1.0:
        raise ConfigurationError(
            "IB trades in real time: unset TRADER_SYNTHETIC__SPEED and TRADER_SYNTHETIC__ANCHOR_NS"
        )
    try:
        return IbkrConfig(
            host=section.host,
            port=section.port,
            client_id=section.client_id + client_offset,
            account=section.account,
            connect_timeout_s=section.connect_timeout_s,
            request_timeout_s=section.request_timeout_s,
            silence_timeout_s=section.silence_timeout_s,
            market_data_type=section.market_data_type,
        )
    except ValueError as exc:
        raise ConfigurationError(f"IB: {exc}") from exc


async def connect_ibkr(settings: Settings, *, clock: Clock, with_feed: bool) -> VenueLink:
    """Broker and feed listen to the session before it connects, so the first
    synchronisation reaches both."""
    gaps = GapRelay()
    session = IbkrSession(ibkr_config(settings), clock=clock, on_gap=gaps)
    broker = IbkrBroker(session, clock=clock)
    feed = IbkrFeed(session, symbols=settings.symbols, clock=clock) if with_feed else None
    await _start_ib(session)
    return VenueLink(broker=broker, closers=[session.close], feed=feed, gaps=gaps)


async def _start_ib(session: IbkrSession) -> None:
    try:
        await session.start()
    except BrokerError as exc:
        await session.close()
        where = f"{session.config.host}:{session.config.port}"
        raise VenueUnreachable(f"IB at {where}: {exc}") from exc


async def connect_ibkr_feed(
    settings: Settings, *, clock: Clock, gaps: GapRelay
) -> tuple[MarketDataFeed, list[Closer]]:
    """IB's market data on a connection of its own (the sharded router's)."""
    session = IbkrSession(
        ibkr_config(settings, client_offset=_FEED_CLIENT_OFFSET), clock=clock, on_gap=gaps
    )
    feed = IbkrFeed(session, symbols=settings.symbols, clock=clock)
    await _start_ib(session)
    return feed, [session.close]
