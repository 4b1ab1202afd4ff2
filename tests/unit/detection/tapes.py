"""Crafted tapes for the detector tests: ticks that seed a baseline and then ramp; one-minute
bars that are quiet and then wake up."""

from __future__ import annotations

from app.domain.market import Bar, Tick
from tests.builders import MINUTE, OPEN_NS, SECOND, bar

EVERY_S = 5  # one print every five seconds: twelve a minute
BASE_SIZE = 100  # so the steady per-minute volume is 1,200 shares
BASE_PER_MINUTE = BASE_SIZE * 60 // EVERY_S
WARM_MINUTES = 20  # past the default 15 minutes a baseline needs
BURST_NS = OPEN_NS + WARM_MINUTES * MINUTE  # where the tapes below hand over to a ramp
WARM = 30  # the slow detector's default baseline_bars


def steady(
    symbol: str = "ABC",
    *,
    start_ns: int = OPEN_NS,
    minutes: int = WARM_MINUTES,
    price: float = 10.0,
    size: int = BASE_SIZE,
) -> list[Tick]:
    """A flat tape: one print every EVERY_S seconds from `start_ns` for `minutes`."""
    count = minutes * 60 // EVERY_S
    return [Tick(symbol, start_ns + i * EVERY_S * SECOND, price, size) for i in range(count)]


def ramp(
    symbol: str = "ABC",
    *,
    start_ns: int = BURST_NS,
    seconds: int = 60,
    start: float = 10.0,
    end: float,
    size: int,
) -> list[Tick]:
    """Prints every EVERY_S seconds after `start_ns`, the price moving linearly to `end` at
    `start_ns + seconds`."""
    steps = seconds // EVERY_S
    return [
        Tick(symbol, start_ns + k * EVERY_S * SECOND, start + (end - start) * k / steps, size)
        for k in range(1, steps + 1)
    ]


def at(
    i: int,
    *,
    symbol: str = "ABC",
    volume: int = 1000,
    span: float = 0.10,
    o: float = 10.0,
    c: float = 10.0,
) -> Bar:
    """The one-minute bar of minute `i`, with a high-low range of `span` around its body."""
    mid = (o + c) / 2
    return bar(
        symbol=symbol,
        ts_ns=OPEN_NS + i * MINUTE,
        o=o,
        c=c,
        h=max(o, c, mid + span / 2),
        low=min(o, c, mid - span / 2),
        volume=volume,
    )


def quiet(symbol: str = "ABC") -> list[Bar]:
    """WARM ordinary bars: 1,000 shares, 10 cents of range."""
    return [at(i, symbol=symbol) for i in range(WARM)]


def waking(
    start: int = WARM,
    *,
    symbol: str = "ABC",
    n: int = 3,
    volume: int = 3000,
    span: float = 0.20,
) -> list[Bar]:
    """`n` bars from minute `start` with triple volume and double range, drifting up 0.2% each."""
    return [
        at(
            start + k,
            symbol=symbol,
            volume=volume,
            span=span,
            o=10.0 * 1.002**k,
            c=10.0 * 1.002 ** (k + 1),
        )
        for k in range(n)
    ]
