"""What a venue connection hands the composition: its broker, and what runs and closes beside it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from app.ports.bars import BarSource
from app.ports.broker import Broker
from app.ports.feed import MarketDataFeed
from app.ports.service import Service
from app.services.gap_relay import GapRelay

Closer = Callable[[], Awaitable[None]]


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
