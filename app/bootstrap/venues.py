"""The configured venue: its broker, its market data, what runs and what closes beside them.

The simulated venue is built from the ledger, as at every start. Alpaca and IB are connected
for real: Alpaca's keys are checked (account call) and its trade-update stream is listening
before anything can be sent; IB's socket is up. Every reconnect of their streams goes to the
link's GapRelay, which the composition binds to the signal consumer's reconciliation.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from redis.asyncio import Redis

from app.bootstrap.runtime import ConfigurationError, VenueUnreachable, process_identity
from app.brokers.alpaca.bars import AlpacaBars
from app.brokers.alpaca.broker import AlpacaBroker
from app.brokers.alpaca.config import (
    AlpacaConfig,
    alpaca_hosted,
    check_account,
)
from app.brokers.alpaca.feed import AlpacaFeed
from app.brokers.ibkr.broker import IbkrBroker
from app.brokers.ibkr.config import IbkrConfig
from app.brokers.ibkr.feed import IbkrFeed
from app.brokers.ibkr.session import IbkrSession
from app.brokers.ratelimit import RateBudget, RateLimiter, SlidingWindowLimiter
from app.brokers.ratelimit_redis import RedisRateLimiter
from app.brokers.sim.broker import SimBroker
from app.brokers.sim.fill_model import FillModel
from app.brokers.sim.venue import SimVenue, VenueConfig
from app.clocks.live import LiveClock
from app.domain.ids import SequentialIds
from app.domain.money import ZERO
from app.ports.bars import BarSource
from app.ports.broker import Broker, BrokerError
from app.ports.bus import MessageBus
from app.ports.clock import Clock
from app.ports.feed import MarketDataFeed
from app.ports.ledger import Ledger
from app.ports.service import Service
from app.services.gap_relay import GapRelay
from app.services.venue_feeder import VenueFeeder
from app.settings import Account, Mode, Settings, Venue

Closer = Callable[[], Awaitable[None]]

# The market-data connection of a sharded router logs in to IB beside the executor's: IB wants
# a client id of its own for each connection.
_FEED_CLIENT_OFFSET = 1


@dataclass(slots=True, kw_only=True)
class VenueLink:
    """`feed` is the venue's market data when it was asked for; `bars` its bar history, for
    warming shards, where it has one; `closers` run at shutdown."""

    broker: Broker
    services: list[Service] = field(default_factory=list)
    closers: list[Closer] = field(default_factory=list)
    feed: MarketDataFeed | None = None
    gaps: GapRelay = field(default_factory=GapRelay)
    bars: BarSource | None = None


async def connect_venue(
    settings: Settings,
    *,
    clock: Clock,
    ledger: Ledger,
    bus: MessageBus,
    with_feed: bool = False,
    streaming: bool = True,
) -> VenueLink:
    """The broker for the configured venue. `with_feed` also opens the venue's market data;
    `streaming=False` is for lookups only (`trader reconcile`): no report stream is started."""
    match settings.venue:
        case Venue.SIM:
            return await _sim(settings, clock=clock, ledger=ledger, bus=bus)
        case Venue.ALPACA:
            return await _alpaca(settings, clock=clock, with_feed=with_feed, streaming=streaming)
        case Venue.IBKR:
            return await _ibkr(settings, clock=clock, with_feed=with_feed)


async def connect_feed(settings: Settings, *, clock: Clock) -> tuple[MarketDataFeed, list[Closer]]:
    """The venue's market data alone (the sharded router's feed). Its gaps are logged and
    counted; the executor reconciles on its own connection's gaps."""
    gaps = GapRelay()
    match settings.venue:
        case Venue.ALPACA:
            return _alpaca_feed(settings, alpaca_config(settings), clock=clock, gaps=gaps), []
        case Venue.IBKR:
            session = IbkrSession(
                ibkr_config(settings, client_offset=_FEED_CLIENT_OFFSET), clock=clock, on_gap=gaps
            )
            feed = IbkrFeed(session, symbols=settings.symbols, clock=clock)
            await _start_ib(session)
            return feed, [session.close]
        case Venue.SIM:
            raise ConfigurationError("the simulated venue has no market data of its own")


# simulated ----------------------------------------------------------------------------------
async def _sim(settings: Settings, *, clock: Clock, ledger: Ledger, bus: MessageBus) -> VenueLink:
    positions = await ledger.positions()
    lots = await ledger.open_lots()
    cash = settings.risk.starting_cash + sum((p.realized_pnl for p in positions), ZERO)
    cash -= sum((lot.qty_open * lot.avg_price * lot.side.sign + lot.fees for lot in lots), ZERO)
    sim = settings.sim
    venue = SimVenue(
        VenueConfig(
            latency_ns=sim.latency_ms * 1_000_000,
            starting_cash=cash,
            buying_power_multiplier=sim.buying_power_multiplier,
            retain_ns=round(sim.retain_hours * 3_600_000_000_000),
            fill_model=FillModel(
                slippage_bps=sim.slippage_bps,
                participation=sim.participation,
                fee_per_share=sim.fee_per_share,
            ),
        ),
        ids=SequentialIds("sim"),
    )
    for lot in lots:
        venue.seed_position(lot.symbol, qty=lot.signed_qty, avg_price=lot.avg_price)
    broker = SimBroker(venue, clock)
    feeder = VenueFeeder(venue=broker, bus=bus, shard_count=settings.shard_count, consumer="venue")
    return VenueLink(broker=broker, services=[feeder])


# Alpaca -------------------------------------------------------------------------------------
def alpaca_config(settings: Settings) -> AlpacaConfig:
    """Alpaca's settings, checked: keys present, keys and account matching the URLs, and a
    market clock that is Alpaca's (a shifted or sped-up clock is for rehearsals against a
    venue simulator, never against Alpaca's own hosts)."""
    section = settings.alpaca
    if section.key_id is None or section.secret_key is None:
        raise ConfigurationError(
            "TRADER_VENUE=alpaca needs TRADER_ALPACA__KEY_ID and TRADER_ALPACA__SECRET_KEY"
        )
    rehearsal = settings.synthetic.anchor_ns is not None or settings.synthetic.speed != 1.0
    if rehearsal and alpaca_hosted(section.base_url):
        raise ConfigurationError(
            "Alpaca trades in real time: unset TRADER_SYNTHETIC__SPEED and "
            "TRADER_SYNTHETIC__ANCHOR_NS"
        )
    try:
        check_account(live=settings.account is Account.LIVE, trading_url=section.base_url)
        return AlpacaConfig(
            key_id=section.key_id.get_secret_value(),
            secret_key=section.secret_key.get_secret_value(),
            base_url=section.base_url,
            data_url=section.data_url,
            trade_stream_url=section.trade_stream_url or "",
            data_stream_url=section.data_stream_url or "",
            feed=section.data_feed,
            extended_hours=section.extended_hours,
            request_timeout_s=section.request_timeout_s,
            data_silence_timeout_s=section.silence_timeout_s,
        )
    except ValueError as exc:
        raise ConfigurationError(f"Alpaca: {exc}") from exc


async def _alpaca(
    settings: Settings, *, clock: Clock, with_feed: bool, streaming: bool
) -> VenueLink:
    config = alpaca_config(settings)
    closers: list[Closer] = []
    gaps = GapRelay()
    limiter = alpaca_limiter(settings, closers)
    broker = AlpacaBroker(
        config,
        clock=clock,
        limiter=limiter,
        rng=random.Random(),  # noqa: S311 - backoff jitter, not secrecy
        on_gap=gaps,
    )
    bars = _alpaca_bars(config, limiter)
    closers[:0] = [broker.close, bars.close]
    if streaming:
        try:
            await broker.start()
        except BrokerError as exc:
            for close in closers:
                await close()
            raise VenueUnreachable(f"Alpaca at {config.base_url}: {exc}") from exc
    feed = _alpaca_feed(settings, config, clock=clock, gaps=gaps) if with_feed else None
    return VenueLink(broker=broker, closers=closers, feed=feed, gaps=gaps, bars=bars)


def _alpaca_bars(config: AlpacaConfig, limiter: RateLimiter) -> AlpacaBars:
    return AlpacaBars(
        config,
        limiter=limiter,
        clock=LiveClock(),
        rng=random.Random(),  # noqa: S311 - backoff jitter, not secrecy
    )


def venue_bars(settings: Settings, closers: list[Closer]) -> BarSource | None:
    """The venue's bar history for a process that holds no venue link (a sharded shard
    worker), under the account's shared request budget; None for a venue without one here
    (the simulated venue; IB's history is not wired)."""
    if settings.venue is not Venue.ALPACA:
        return None
    bars = _alpaca_bars(alpaca_config(settings), alpaca_limiter(settings, closers))
    closers.insert(0, bars.close)
    return bars


def alpaca_limiter(settings: Settings, closers: list[Closer]) -> RateLimiter:
    """One budget per account: in a sharded deployment it is counted in Redis, so every
    process that talks to Alpaca shares it. Windows are measured on the wall clock."""
    section = settings.alpaca
    try:
        budget = RateBudget(limit=section.rate_limit_per_min, reserve=section.rate_limit_reserve)
    except ValueError as exc:
        raise ConfigurationError(f"Alpaca rate limit: {exc}") from exc
    wall = LiveClock()
    if settings.mode is not Mode.SHARDED:
        return SlidingWindowLimiter(budget, clock=wall, sleep=asyncio.sleep)
    client = Redis.from_url(settings.redis_url)
    closers.append(client.aclose)
    return RedisRateLimiter(
        client,
        budget,
        clock=wall,
        sleep=asyncio.sleep,
        key_prefix=f"{settings.bus_prefix}:alpaca:",
        instance=process_identity("alpaca"),
    )


def _alpaca_feed(
    settings: Settings, config: AlpacaConfig, *, clock: Clock, gaps: GapRelay
) -> AlpacaFeed:
    return AlpacaFeed(
        config,
        trades=settings.symbols,
        quotes=settings.symbols,
        clock=clock,
        rng=random.Random(),  # noqa: S311 - backoff jitter, not secrecy
        on_gap=gaps,
    )


# Interactive Brokers ------------------------------------------------------------------------
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


async def _ibkr(settings: Settings, *, clock: Clock, with_feed: bool) -> VenueLink:
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
