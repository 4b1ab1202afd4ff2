"""A bar replayed as four prints, so bars drive the same tick path as live data.

A bar says where the price opened, how far it went each way and where it closed, not in which
order; the simulated venue needs prints to fill against. Each bar becomes four prints:

* open at the bar start plus `open_offset_ns` (the venue latency, so an order sent at the
  previous bar's close reaches the book in time to meet the open: "fill at the next bar's open");
* the two extremes at one and two thirds of the bar, the low first when the bar closed at or
  above its open (it dipped, then ran up into the close), the high first when it closed below;
  a bar that closed exactly at its open takes one of the two orders by a coin that depends on
  the seed, the symbol and the bar's start only (so playing a bar twice gives the same prints);
* the close one millisecond before the bar ends, so the shard's last trade is fresh when the bar
  closes (the stale-data gate reads it).

The volume is split evenly over the four prints (the close takes the remainder), so a venue
that fills a share of each print's size (participation) fills a large order across the bar.
Aggregated again by the shard, the prints give back the bar's open, high, low, close and volume
exactly; only its VWAP becomes the mean of these four prints.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Protocol

from app.domain.market import Tick
from app.engine.bars import BucketTally

NS = 1_000_000_000
CLOSE_LEAD_NS = 1_000_000


class BarRow(Protocol):
    """What a bar must say to be replayed: a backtest's bar row or a venue's bar."""

    @property
    def symbol(self) -> str: ...
    @property
    def ts_ns(self) -> int: ...
    @property
    def open(self) -> float: ...
    @property
    def high(self) -> float: ...
    @property
    def low(self) -> float: ...
    @property
    def close(self) -> float: ...
    @property
    def volume(self) -> int: ...


class BarPrints:
    """Turns the bars of one start into prints in time order (then symbol order)."""

    __slots__ = ("_close_ns", "_first_ns", "_open_ns", "_second_ns", "_seed")

    def __init__(self, *, interval_s: int, open_offset_ns: int, seed: int) -> None:
        interval_ns = interval_s * NS
        self._first_ns = interval_ns // 3
        self._second_ns = 2 * interval_ns // 3
        self._close_ns = interval_ns - CLOSE_LEAD_NS
        if not 0 <= open_offset_ns < self._first_ns or self._second_ns >= self._close_ns:
            raise ValueError(
                f"a {interval_s}s bar cannot hold an open {open_offset_ns} ns after its start "
                "and four distinct prints"
            )
        self._open_ns = open_offset_ns
        self._seed = seed

    def of(self, start_ns: int, bars: Sequence[BarRow]) -> list[Tick]:
        """The prints of bars that all start at `start_ns`, in time order."""
        opens: list[Tick] = []
        firsts: list[Tick] = []
        seconds: list[Tick] = []
        closes: list[Tick] = []
        t_open = start_ns + self._open_ns
        t_first = start_ns + self._first_ns
        t_second = start_ns + self._second_ns
        t_close = start_ns + self._close_ns
        for bar in bars:
            size = bar.volume // 4
            rest = bar.volume - 3 * size
            first, second = self._extremes(bar)
            symbol = bar.symbol
            opens.append(Tick(symbol, t_open, bar.open, size))
            firsts.append(Tick(symbol, t_first, first, size))
            seconds.append(Tick(symbol, t_second, second, size))
            closes.append(Tick(symbol, t_close, bar.close, rest))
        return [*opens, *firsts, *seconds, *closes]

    def tallies(self, start_ns: int, bars: Sequence[BarRow]) -> list[BucketTally]:
        """What each bar's prints from `of` add up to, computed as the aggregator adds them up
        print by print (so the bars it makes of them are the very bars the prints would make)."""
        t_close = start_ns + self._close_ns
        out: list[BucketTally] = []
        for bar in bars:
            size = bar.volume // 4
            rest = bar.volume - 3 * size
            first, second = self._extremes(bar)
            open_, close = bar.open, bar.close
            notional = open_ * size
            notional += first * size
            notional += second * size
            notional += close * rest
            out.append(
                BucketTally(
                    bar.symbol,
                    t_close,
                    open_,
                    max(open_, first, second, close),
                    min(open_, first, second, close),
                    close,
                    bar.volume,
                    4,
                    notional,
                )
            )
        return out

    def _extremes(self, bar: BarRow) -> tuple[float, float]:
        """The bar's low then high when it closed up (or flat, by the coin), else the reverse."""
        if bar.close > bar.open or (bar.close == bar.open and self._heads(bar)):
            return bar.low, bar.high
        return bar.high, bar.low

    def _heads(self, bar: BarRow) -> bool:
        return bool(zlib.crc32(f"{self._seed}:{bar.symbol}:{bar.ts_ns}".encode()) & 1)
