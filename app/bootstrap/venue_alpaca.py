"""Alpaca: the checked configuration, the broker with its trade-update stream, the market data
feed, bar history, and the account's request budget. Imported only when Alpaca is the venue."""

from __future__ import annotations

import asyncio
import random

from redis.asyncio import Redis

from app.bootstrap.runtime import ConfigurationError, VenueUnreachable, process_identity
from app.bootstrap.venue_link import Closer, VenueLink
from app.brokers.alpaca.bars import AlpacaBars
from app.brokers.alpaca.broker import AlpacaBroker
from app.brokers.alpaca.config import (
    AlpacaConfig,
    alpaca_hosted,
    check_account,
)
from app.brokers.alpaca.feed import AlpacaFeed
from app.brokers.ratelimit import RateBudget, RateLimiter, SlidingWindowLimiter
from app.brokers.ratelimit_redis import RedisRateLimiter
from app.clocks.live import LiveClock
from app.ports.broker import BrokerError
from app.ports.clock import Clock
from app.services.gap_relay import GapRelay
from app.settings import Account, Mode, Settings


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


async def connect_alpaca(
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
    bars = alpaca_bars(config, limiter)
    closers[:0] = [broker.close, bars.close]
    if streaming:
        try:
            await broker.start()
        except BrokerError as exc:
            for close in closers:
                await close()
            raise VenueUnreachable(f"Alpaca at {config.base_url}: {exc}") from exc
    feed = alpaca_feed(settings, config, clock=clock, gaps=gaps) if with_feed else None
    return VenueLink(broker=broker, closers=closers, feed=feed, gaps=gaps, bars=bars)


def alpaca_bars(config: AlpacaConfig, limiter: RateLimiter) -> AlpacaBars:
    return AlpacaBars(
        config,
        limiter=limiter,
        clock=LiveClock(),
        rng=random.Random(),  # noqa: S311 - backoff jitter, not secrecy
    )


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


def alpaca_feed(
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
