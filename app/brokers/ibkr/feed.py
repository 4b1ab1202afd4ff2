"""IbkrFeed: IB streaming market data (reqMktData) as a MarketDataFeed of TickBatches.

Each symbol is qualified once (contract details give its conId), then subscribed. The set of
wanted symbols is the truth: after a reconnect every one is subscribed again exactly once, and
after notice 1101 (TWS back, subscriptions lost) they are renewed; after 1102 they are kept.
While the socket is down or TWS is cut off (1100) the feed is `stale`.

IB's streaming ticks are snapshots of the tape, not every print. Timestamps are the injected
Clock's at arrival: reqMktData carries no exchange time.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Iterable

import structlog
from ib_async import Contract, Ticker

from app.brokers.ibkr.orders import stock
from app.brokers.ibkr.session import IbkrSession
from app.domain.market import Quote, Tick, TickBatch
from app.ports.clock import Clock

log = structlog.get_logger()

LAST_TICKS = frozenset({4, 68})
"""Last price (with size), live and delayed."""
QUOTE_TICKS = frozenset({0, 1, 2, 3, 66, 67, 69, 70})
"""Bid/ask price and size, live and delayed."""


class IbkrFeed:
    def __init__(self, session: IbkrSession, *, symbols: Iterable[str], clock: Clock) -> None:
        session.add_listener(self)
        self._session = session
        self._clock = clock
        self._wanted: dict[str, None] = dict.fromkeys(symbols)
        self._contracts: dict[str, Contract] = {}
        self._active: set[str] = set()
        self._queue: asyncio.Queue[TickBatch | None] = asyncio.Queue()
        self._closed = False
        self._dark = False
        self.unknown_symbols: set[str] = set()
        session.ib.pendingTickersEvent += self._on_tickers

    @property
    def stale(self) -> bool:
        """No data can be arriving: disconnected, or TWS has lost IB's servers (1100)."""
        return self._dark or not self._session.connected

    @property
    def subscribed(self) -> frozenset[str]:
        return frozenset(self._active)

    async def subscribe(self, symbol: str) -> None:
        self._wanted[symbol] = None
        if self._session.connected:
            await self._subscribe(symbol)

    def unsubscribe(self, symbol: str) -> None:
        self._wanted.pop(symbol, None)
        if symbol in self._active:
            self._active.discard(symbol)
            if self._session.connected:
                self._session.ib.cancelMktData(self._contracts[symbol])

    async def stream(self) -> AsyncIterator[TickBatch]:
        while not self._closed:
            batch = await self._queue.get()
            if batch is None:
                return
            yield batch

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._session.connected:
            for symbol in sorted(self._active):
                self._session.ib.cancelMktData(self._contracts[symbol])
        self._active.clear()
        self._queue.put_nowait(None)

    # session listener ----------------------------------------------------------------------
    async def session_up(self) -> None:
        """A fresh connection knows no subscriptions: make every wanted one again."""
        self._active.clear()
        self._dark = False
        if self._closed:
            return
        self._session.ib.reqMarketDataType(self._session.config.market_data_type)
        for symbol in list(self._wanted):
            await self._subscribe(symbol)

    def session_down(self) -> None:
        self._active.clear()

    def connectivity_lost(self) -> None:
        self._dark = True

    async def connectivity_restored(self, *, data_lost: bool) -> None:
        self._dark = False
        if not data_lost:
            return
        ib = self._session.ib
        for symbol in sorted(self._active):
            contract = self._contracts[symbol]
            ib.cancelMktData(contract)
            ib.reqMktData(contract)
        log.info("ibkr_market_data_renewed", symbols=len(self._active))

    # subscriptions -------------------------------------------------------------------------
    async def _subscribe(self, symbol: str) -> None:
        contract = self._contracts.get(symbol) or await self._qualify(symbol)
        if (
            contract is None
            or symbol not in self._wanted
            or symbol in self._active
            or not self._session.connected
        ):
            return
        self._session.ib.reqMktData(contract)
        self._active.add(symbol)

    async def _qualify(self, symbol: str) -> Contract | None:
        config = self._session.config
        wanted = stock(symbol, exchange=config.exchange, currency=config.currency)
        try:
            (found,) = await asyncio.wait_for(
                self._session.ib.qualifyContractsAsync(wanted), config.request_timeout_s
            )
        except (TimeoutError, ConnectionError) as exc:
            log.warning("ibkr_symbol_not_qualified", symbol=symbol, error=repr(exc))
            return None
        if not isinstance(found, Contract) or not found.conId:
            self.unknown_symbols.add(symbol)
            log.warning("ibkr_symbol_unknown", symbol=symbol)
            return None
        self._contracts[symbol] = found
        return found

    # ticks ---------------------------------------------------------------------------------
    def _on_tickers(self, tickers: set[Ticker]) -> None:
        now = self._clock.now_ns()
        ticks: list[Tick] = []
        quotes: list[Quote] = []
        for ticker in sorted(tickers, key=lambda t: t.contract.symbol if t.contract else ""):
            symbol = ticker.contract.symbol if ticker.contract else ""
            if symbol not in self._active:
                continue
            quoted = False
            for data in ticker.ticks:
                if data.tickType in LAST_TICKS and _usable(data.price) and data.size > 0:
                    ticks.append(Tick(symbol, now, data.price, int(data.size)))
                elif data.tickType in QUOTE_TICKS:
                    quoted = True
            if quoted and _usable(ticker.bid) and _usable(ticker.ask):
                quotes.append(
                    Quote(
                        symbol,
                        now,
                        ticker.bid,
                        ticker.ask,
                        _size(ticker.bidSize),
                        _size(ticker.askSize),
                    )
                )
        if ticks or quotes:
            self._queue.put_nowait(TickBatch(ticks=ticks, quotes=quotes))


def _usable(price: float) -> bool:
    """IB marks a missing price with -1 (or NaN before the first tick)."""
    return math.isfinite(price) and price > 0


def _size(size: float) -> int:
    return int(size) if math.isfinite(size) and size > 0 else 0
