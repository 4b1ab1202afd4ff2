"""Market data as it travels: frozen msgspec structs with nanosecond timestamps.

Prices here are floats: they are statistics of the tape, not booked money. Every value that
enters from outside is checked at the edge (app.marketdata.validation) before it gets here.
"""

from __future__ import annotations

import enum

import msgspec


class Session(enum.IntEnum):
    """Which part of the US equities trading day a timestamp falls in."""

    CLOSED = 0
    PRE = 1
    REGULAR = 2
    POST = 3


class Tick(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One print on the tape."""

    symbol: str
    ts_ns: int
    price: float
    size: int
    seq: int = 0


class Quote(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """Top of book."""

    symbol: str
    ts_ns: int
    bid: float
    ask: float
    bid_size: int
    ask_size: int


class Bar(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """An OHLCV bar; ts_ns is the start of the bucket, interval_s its length."""

    symbol: str
    ts_ns: int
    interval_s: int
    open: float
    high: float
    low: float
    close: float
    volume: int
    trades: int
    vwap: float
    session: Session = Session.REGULAR

    @property
    def end_ns(self) -> int:
        return self.ts_ns + self.interval_s * 1_000_000_000


class TickBatch(msgspec.Struct, frozen=True, array_like=True):
    """Ticks travel in batches: one bus message holds many ticks."""

    ticks: list[Tick]
    quotes: list[Quote] = []
    sent_ns: int = 0  # wall-clock ns when the router published it (0: unknown)
