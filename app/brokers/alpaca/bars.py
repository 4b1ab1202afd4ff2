"""Historical bars from Alpaca's market-data REST API, for indicator warm-up and backtests.

Bars are split-adjusted (adjustment=split: prices before a split are divided by its ratio and
volumes multiplied, so a series crosses a split without a gap) and come page by page: each page
is one budgeted request at query priority, followed by next_page_token until the venue has none.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import Sequence
from functools import partial

import msgspec
from alpaca.data.enums import Adjustment, DataFeed
from alpaca.data.requests import StockBarsRequest
from alpaca.data.timeframe import TimeFrame, TimeFrameUnit

from app.brokers.alpaca.config import AlpacaConfig
from app.brokers.alpaca.errors import VenueHttpError, query_error
from app.brokers.alpaca.rest import AlpacaRest
from app.brokers.alpaca.timestamps import BadTimestamp, rfc3339_ns
from app.brokers.ratelimit import Priority, RateLimiter, Sleep
from app.domain.backoff import FullJitterBackoff
from app.domain.calendar import session_of
from app.domain.market import Bar, Session
from app.ports.broker import TransientBrokerError
from app.ports.clock import Clock

_NS_PER_S = 1_000_000_000
_DAY_S = 86_400
_PAGE_MAX = 10_000
_TIMEFRAMES = {
    60: TimeFrame(1, TimeFrameUnit.Minute),
    300: TimeFrame(5, TimeFrameUnit.Minute),
    900: TimeFrame(15, TimeFrameUnit.Minute),
    1_800: TimeFrame(30, TimeFrameUnit.Minute),
    3_600: TimeFrame(1, TimeFrameUnit.Hour),
    _DAY_S: TimeFrame(1, TimeFrameUnit.Day),
}


class _RawBar(msgspec.Struct):
    t: str
    o: float
    h: float
    l: float  # noqa: E741 - Alpaca's field name
    c: float
    v: int
    n: int = 0
    vw: float = 0.0


class _Page(msgspec.Struct):
    bars: dict[str, list[_RawBar]] | None = None
    next_page_token: str | None = None


def _utc(ts_ns: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts_ns // _NS_PER_S, tz=dt.UTC)


def _bar(symbol: str, raw: _RawBar, interval_s: int) -> Bar:
    ts_ns = rfc3339_ns(raw.t)
    session = Session.REGULAR if interval_s >= _DAY_S else session_of(ts_ns)
    return Bar(
        symbol=symbol,
        ts_ns=ts_ns,
        interval_s=interval_s,
        open=raw.o,
        high=raw.h,
        low=raw.l,
        close=raw.c,
        volume=raw.v,
        trades=raw.n,
        vwap=raw.vw,
        session=session,
    )


class AlpacaBars:
    """Bootstrap or the backtest CLI builds it with the same limiter as the broker."""

    def __init__(
        self,
        config: AlpacaConfig,
        *,
        limiter: RateLimiter,
        clock: Clock,
        rng: random.Random,
        sleep: Sleep = asyncio.sleep,
        page_size: int = _PAGE_MAX,
    ) -> None:
        if not 1 <= page_size <= _PAGE_MAX:
            raise ValueError(f"page_size must be in [1, {_PAGE_MAX}], got {page_size}")
        backoff = FullJitterBackoff(
            base_s=config.backoff_base_s, cap_s=config.backoff_cap_s, random=rng.random
        )
        self._rest = AlpacaRest(config, limiter=limiter, clock=clock, sleep=sleep, backoff=backoff)
        self._feed = DataFeed(config.feed)
        self._page_size = page_size

    async def fetch_bars(
        self, symbols: Sequence[str], *, start_ns: int, end_ns: int, interval_s: int
    ) -> list[Bar]:
        """Bars of `interval_s` (60, 300, 900, 1800, 3600 or 86400) starting in
        [start_ns, end_ns], ordered by time then symbol."""
        timeframe = _TIMEFRAMES.get(interval_s)
        if timeframe is None:
            raise ValueError(f"no Alpaca timeframe for {interval_s} s bars")
        if not symbols or end_ns < start_ns:
            return []
        params = StockBarsRequest(
            symbol_or_symbols=list(symbols),
            timeframe=timeframe,
            start=_utc(start_ns),
            end=_utc(end_ns),
            limit=self._page_size,
            adjustment=Adjustment.SPLIT,
            feed=self._feed,
        ).to_request_fields()
        params["timeframe"] = timeframe.value
        bars: list[Bar] = []
        token: str | None = None
        while True:
            page = await self._page(params if token is None else {**params, "page_token": token})
            try:
                for symbol, raws in (page.bars or {}).items():
                    bars.extend(_bar(symbol, raw, interval_s) for raw in raws)
            except BadTimestamp as exc:
                raise TransientBrokerError(f"unreadable bar from alpaca: {exc}") from exc
            token = page.next_page_token
            if not token:
                break
        bars.sort(key=lambda bar: (bar.ts_ns, bar.symbol))
        return bars

    async def close(self) -> None:
        await self._rest.close()

    async def _page(self, params: dict[str, object]) -> _Page:
        try:
            return await self._rest.call(Priority.QUERY, partial(self._page_sync, params))
        except VenueHttpError as exc:
            raise query_error(exc) from exc

    def _page_sync(self, params: dict[str, object]) -> _Page:
        answer = self._rest.data.get("/stocks/bars", params)
        try:
            return msgspec.convert(answer, type=_Page)
        except msgspec.ValidationError as exc:
            raise ValueError(f"unreadable bars page: {exc}") from exc
