"""The market clock and the session a run trades, and the feed that plays it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from app.bootstrap.runtime import ConfigurationError
from app.clocks.live import LiveClock
from app.domain.calendar import (
    is_trading_day,
    next_trading_day,
    previous_trading_day,
    session_close_ns,
    session_open_ns,
    trading_day,
)
from app.marketdata.replay import ReplayFeed
from app.marketdata.synthetic import SyntheticConfig, SyntheticFeed, SyntheticTape
from app.ports.clock import Clock
from app.ports.feed import MarketDataFeed
from app.ports.ledger import Ledger
from app.settings import FeedKind, Settings
from app.tickstore.parquet import ParquetTickStore


@dataclass(frozen=True, slots=True)
class SessionWindow:
    """The simulated session: its open, where this run starts in it, and its close."""

    open_ns: int
    start_ns: int
    end_ns: int


async def market_clock(settings: Settings, ledger: Ledger) -> tuple[Clock, SessionWindow]:
    """The market clock and the [start, end) of the simulated session to run.

    A paper account continues where its ledger stopped: within the session it resumes at the
    last recorded activity; after the close it moves on to the next trading day, unless a
    session date is pinned. TRADER_SYNTHETIC__MINUTES ends it that much market time after its
    start, before the close.
    """
    pinned = settings.synthetic.session_date
    day = _session_day(settings)
    start = session_open_ns(day)
    last = await ledger.last_activity_ns()
    if last is not None and last >= start:
        last_day = trading_day(last)
        if not pinned and last >= session_close_ns(last_day):
            day = next_trading_day(last_day)
            start = session_open_ns(day)
        else:
            day, start = last_day, last + 1
    end = session_close_ns(day)
    start = min(start, end)
    if settings.synthetic.minutes is not None:
        end = min(end, start + settings.synthetic.minutes * 60 * 10**9)
    window = SessionWindow(open_ns=session_open_ns(day), start_ns=start, end_ns=end)
    return LiveClock(start_ns=start, speed=settings.synthetic.speed), window


def _session_day(settings: Settings) -> datetime.date:
    """The configured session date, or the latest trading day."""
    if settings.synthetic.session_date:
        return _parse_day(settings.synthetic.session_date)
    day = trading_day(LiveClock().now_ns())
    return day if is_trading_day(day) else previous_trading_day(day)


def _parse_day(text: str) -> datetime.date:
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigurationError(f"session date must be YYYY-MM-DD, got {text!r}") from exc
    if not is_trading_day(day):
        raise ConfigurationError(f"{day} is not a US equities trading day")
    return day


def synthetic_tape(settings: Settings, window: SessionWindow) -> SyntheticTape:
    """The session's tape, resumed where the ledger stopped."""
    config = SyntheticConfig(
        seed=settings.synthetic.seed,
        symbols=settings.synthetic.symbols,
        quote_prob=settings.synthetic.quote_prob,
    )
    tape = SyntheticTape(config, start_ns=window.open_ns)
    tape.ticks_until(window.start_ns - 1)
    return tape


def build_feed(settings: Settings, *, clock: Clock, window: SessionWindow) -> MarketDataFeed:
    match settings.feed:
        case FeedKind.SYNTHETIC:
            return SyntheticFeed(synthetic_tape(settings, window), clock, end_ns=window.end_ns)
        case FeedKind.REPLAY:
            store = ParquetTickStore(settings.tick_dir)
            return ReplayFeed(store, start_ns=window.start_ns, end_ns=window.end_ns, clock=clock)
        case FeedKind.VENUE:
            raise ConfigurationError("the venue's feed opens with its connection (venues.py)")


def venue_clock(settings: Settings) -> tuple[Clock, SessionWindow]:
    """The market clock every process of a sharded topology shares, and a real venue's.

    Real time needs nothing shared. A sped-up session runs on wall time since an anchor all
    processes are given (TRADER_SYNTHETIC__ANCHOR_NS: the wall-clock ns at which the market
    clock reads the session's open), so the router's tape and the executor's clock agree.
    """
    if settings.synthetic.minutes is not None:
        raise ConfigurationError(
            "TRADER_SYNTHETIC__MINUTES bounds a monolith session on the simulated venue; "
            "unset it here and stop the processes instead"
        )
    day = _session_day(settings)
    window = SessionWindow(session_open_ns(day), session_open_ns(day), session_close_ns(day))
    anchor = settings.synthetic.anchor_ns
    if anchor is not None:
        return LiveClock(window.open_ns, settings.synthetic.speed, anchor_wall_ns=anchor), window
    if settings.synthetic.speed != 1.0:
        raise ConfigurationError(
            "a sped-up sharded session needs TRADER_SYNTHETIC__ANCHOR_NS (the wall-clock ns at "
            "which its market clock reads the open), the same for every process"
        )
    live = LiveClock()
    now = live.now_ns()
    return live, SessionWindow(window.open_ns, max(now, window.open_ns), window.end_ns)
