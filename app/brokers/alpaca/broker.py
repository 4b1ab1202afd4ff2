"""AlpacaBroker: the Broker port on Alpaca, REST through alpaca-py, reports from trade_updates.

The contract is SimBroker's. A submit either returns (the venue has the order), raises
OrderRejected (the venue, or the checks Alpaca would apply, said no: nothing is at the venue) or
raises TransientBrokerError (the outcome is unknown: resolve it with order_by_client_id, never by
sending again). A submit that finds its client_order_id already taken by the same order is the
second half of an ambiguous first attempt and counts as done. Reports come from the trade_updates
stream in the order the venue sends them, fills possibly before their ack; every StreamGap on it
(one per reconnect) tells the owner to reconcile orders by lookup.

An entry with take_profit and stop_loss goes as an Alpaca bracket. Its legs are orders of the
ledger, under leg_id(entry, kind), while Alpaca names them itself; the adapter translates
(app.brokers.alpaca.legs), learning each leg's Alpaca order id from every nested order it reads:
the submit answer, lookups, listings. A trade update about a bracket order the adapter has not
seen (a fresh process) is worth one listing of recent orders before its report goes on, under
Alpaca's id if even that did not explain it. Neither an entry nor a leg is replaced: cancel.

I/O starts in `start()` (or the first `reports()`), never in the constructor.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, Callable
from decimal import Decimal
from functools import partial
from types import TracebackType
from typing import Self, TypeVar

import structlog
from alpaca.common.enums import Sort
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.models import Order as AlpacaOrder
from alpaca.trading.models import Position as AlpacaPosition
from alpaca.trading.models import TradeAccount
from alpaca.trading.requests import (
    GetOrderByIdRequest,
    GetOrdersRequest,
    OrderRequest,
    ReplaceOrderRequest,
)
from msgspec.structs import replace

from app.brokers.alpaca.config import AlpacaConfig
from app.brokers.alpaca.errors import VenueHttpError, order_error, query_error
from app.brokers.alpaca.legs import entry_of
from app.brokers.alpaca.mapping import (
    AlpacaAccount,
    alpaca_account,
    broker_position,
    datetime_ns,
    ns_datetime,
)
from app.brokers.alpaca.order_ids import OrderIds
from app.brokers.alpaca.order_request import order_request, replace_request
from app.brokers.alpaca.rest import AlpacaRest
from app.brokers.alpaca.stream import GapHandler, StreamSession
from app.brokers.alpaca.trade_updates import TradeUpdate, TradeUpdatesWire
from app.brokers.ratelimit import Priority, RateLimiter, Sleep
from app.domain.backoff import FullJitterBackoff
from app.domain.execution import ExecutionReport
from app.domain.order import Order, OrderType, TimeInForce
from app.ports.broker import (
    BrokerAccount,
    BrokerError,
    BrokerOrder,
    BrokerPosition,
    BrokerUnavailable,
    OrderRejected,
)
from app.ports.clock import Clock

M = TypeVar("M")

log = structlog.get_logger()

_MICROSECOND_NS = 1_000


def _expect(value: object, kind: type[M]) -> M:
    """alpaca-py answers a model or, in raw mode, a dict; this adapter only runs the former."""
    if not isinstance(value, kind):
        raise ValueError(f"expected {kind.__name__} from alpaca-py, got {type(value).__name__}")
    return value


def _expect_list(value: object, kind: type[M]) -> list[M]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list of {kind.__name__} from alpaca-py")
    return [_expect(item, kind) for item in value]


class AlpacaBroker:
    """Bootstrap builds it with `AlpacaBroker(config, clock=..., limiter=..., rng=...)`; the
    limiter is shared with every other user of the account's REST budget."""

    def __init__(
        self,
        config: AlpacaConfig,
        *,
        clock: Clock,
        limiter: RateLimiter,
        rng: random.Random,
        sleep: Sleep = asyncio.sleep,
        on_gap: GapHandler | None = None,
    ) -> None:
        self._config = config
        backoff = FullJitterBackoff(
            base_s=config.backoff_base_s, cap_s=config.backoff_cap_s, random=rng.random
        )
        self._rest = AlpacaRest(config, limiter=limiter, clock=clock, sleep=sleep, backoff=backoff)
        self._ids = OrderIds()
        self._listed_for: set[str] = set()
        self._updates: asyncio.Queue[TradeUpdate] = asyncio.Queue()
        self.wire = TradeUpdatesWire(
            url=config.trade_stream_url,
            key_id=config.key_id,
            secret_key=config.secret_key,
            client_id_of=self._ids.client_id,
        )
        self.stream = StreamSession(
            self.wire,
            deliver=self._publish,
            clock=clock,
            sleep=sleep,
            backoff=backoff,
            silence_timeout_s=config.trade_silence_timeout_s,
            handshake_timeout_s=config.handshake_timeout_s,
            close_timeout_s=config.close_timeout_s,
            on_gap=on_gap,
        )
        self._task: asyncio.Task[None] | None = None

    @property
    def requests_sent(self) -> int:
        return self._rest.sent

    # lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the keys work (account) and wait until trade_updates is listening, so no
        report of an order sent afterwards is missed. Raises BrokerUnavailable otherwise."""
        try:
            await self.account_details()
            self._ensure_streaming()
            async with asyncio.timeout(self._config.start_timeout_s):
                await self.stream.ready.wait()
        except TimeoutError as exc:
            await self.close()
            raise BrokerUnavailable("alpaca trade_updates did not come up") from exc
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self._rest.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _ensure_streaming(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.stream.run(), name="alpaca-trade-updates")

    # orders ------------------------------------------------------------------------------

    async def submit(self, order: Order, *, extended_hours: bool | None = None) -> None:
        """`extended_hours` overrides the config's default, which applies to limit DAY orders
        that carry no bracket (Alpaca takes brackets in regular hours only)."""
        if extended_hours is None:
            extended_hours = self._config.extended_hours and (
                order.order_type is OrderType.LIMIT
                and order.tif is TimeInForce.DAY
                and not order.has_bracket
            )
        request = order_request(order, extended_hours=extended_hours)
        try:
            placed = await self._order_call(partial(self._submit_sync, request))
        except VenueHttpError as exc:
            if not exc.duplicate_client_order_id:
                raise order_error(exc) from exc
            await self._already_placed(order, exc)
            return
        self._ids.learn(placed)

    async def _already_placed(self, order: Order, error: VenueHttpError) -> None:
        """The id is taken: if by this very order, an earlier ambiguous submit got through."""
        seen = await self._lookup(order.client_order_id, Priority.ORDER)
        if seen is None:
            raise OrderRejected(str(error))
        if (seen.symbol, seen.side, seen.qty) != (order.symbol, order.side, order.qty):
            raise OrderRejected(
                f"client_order_id {order.client_order_id} is taken by a different order"
            )
        log.info("alpaca_submit_already_placed", order=order.client_order_id)

    async def cancel(self, client_order_id: str) -> None:
        """Raises OrderRejected when the order is unknown or already ended."""
        broker_id = await self._broker_id(client_order_id)
        try:
            await self._order_call(partial(self._rest.trading.cancel_order_by_id, broker_id))
        except VenueHttpError as exc:
            raise order_error(exc) from exc

    async def replace(
        self,
        client_order_id: str,
        *,
        new_client_order_id: str,
        qty: Decimal | None = None,
        limit_price: Decimal | None = None,
    ) -> None:
        """Alpaca's atomic PATCH: the old order ends REPLACED, `new_client_order_id` carries on.
        A bracket's entry or leg is refused: its legs are tied to the entry as sent."""
        request = replace_request(
            new_client_order_id=new_client_order_id, qty=qty, limit_price=limit_price
        )
        if entry_of(client_order_id) is not None:
            raise OrderRejected(f"{client_order_id} is a bracket leg: cancel it instead")
        broker_id = await self._broker_id(client_order_id)
        if self._ids.in_bracket(client_order_id):
            raise OrderRejected(f"{client_order_id} is a bracket entry: cancel it instead")
        try:
            placed = await self._order_call(partial(self._replace_sync, broker_id, request))
        except VenueHttpError as exc:
            seen = None
            if exc.duplicate_client_order_id:
                seen = await self._lookup(new_client_order_id, Priority.ORDER)
            if seen is None:
                raise order_error(exc) from exc
            return
        self._ids.learn(placed)

    # views -------------------------------------------------------------------------------

    async def order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        return await self._lookup(client_order_id, Priority.QUERY)

    async def orders(self, *, since_ns: int) -> list[BrokerOrder]:
        """Every order created at or after since_ns, open or closed, oldest first. Alpaca lists
        a page of at most 500 per request and its `after` is exclusive, so pages overlap by a
        microsecond and are merged by order id. Bracket legs come nested under their entry and
        are listed each after it, under our leg ids: the ledger holds them as orders too."""
        found: dict[str, BrokerOrder] = {}
        after_ns = since_ns - _MICROSECOND_NS
        while True:
            page = await self._query(partial(self._orders_sync, after_ns, Sort.ASC))
            fresh = [order for order in page if str(order.id) not in found]
            for order in fresh:
                for seen in self._ids.learn(order):
                    found[seen.broker_order_id] = seen
            if len(page) < self._config.orders_page_size or not fresh:
                break
            after_ns = max(datetime_ns(order.created_at) for order in page) - _MICROSECOND_NS
        listed = [seen for seen in found.values() if seen.created_ns >= since_ns]
        return sorted(listed, key=lambda seen: seen.created_ns)

    async def fills(self, *, since_ns: int) -> list[ExecutionReport]:
        """Always empty: alpaca-py's TradingClient cannot list executions, and the account
        activities API names them "<time>::<uuid>", not by the execution_id trade_updates
        carries, so listing them would book a fill the stream delivered under a second id.
        Reconciliation books a missed fill under an id derived from the order instead."""
        return []

    async def positions(self) -> list[BrokerPosition]:
        return await self._query(self._positions_sync)

    async def account(self) -> BrokerAccount:
        return (await self.account_details()).as_port()

    async def account_details(self) -> AlpacaAccount:
        """The account with Alpaca's extras (day-trading buying power, PDT flag)."""
        return await self._query(self._account_sync)

    async def reports(self) -> AsyncGenerator[ExecutionReport, None]:
        """Execution reports in the order trade_updates delivers them, bracket legs under our
        leg ids; one consumer."""
        self._ensure_streaming()
        while True:
            yield await self._translated(await self._updates.get())

    # plumbing ----------------------------------------------------------------------------

    async def _order_call(self, request: Callable[[], M]) -> M:
        return await self._rest.call(Priority.ORDER, request)

    async def _query(self, request: Callable[[], M]) -> M:
        try:
            return await self._rest.call(Priority.QUERY, request)
        except VenueHttpError as exc:
            raise query_error(exc) from exc

    async def _lookup(self, client_order_id: str, priority: Priority) -> BrokerOrder | None:
        """A leg is looked up through its entry, nested, as Alpaca does not know our leg id."""
        entry_id = entry_of(client_order_id)
        found = await self._fetch(
            partial(self._by_client_id_sync, entry_id or client_order_id), priority
        )
        if found is not None and entry_id is not None and found.legs is None:
            found = await self._fetch(partial(self._nested_sync, str(found.id)), priority)
        if found is None:
            return None
        learned = self._ids.learn(found)
        return next((seen for seen in learned if seen.client_order_id == client_order_id), None)

    async def _fetch(
        self, request: Callable[[], AlpacaOrder], priority: Priority
    ) -> AlpacaOrder | None:
        try:
            return await self._rest.call(priority, request)
        except VenueHttpError as exc:
            if exc.status == 404:
                return None
            raise query_error(exc) from exc

    async def _broker_id(self, client_order_id: str) -> str:
        known = self._ids.order_id(client_order_id)
        if known is not None:
            return known
        seen = await self._lookup(client_order_id, Priority.ORDER)
        if seen is None:
            raise OrderRejected(f"unknown order {client_order_id}")
        return seen.broker_order_id

    async def _publish(self, updates: list[TradeUpdate]) -> None:
        for update in updates:
            self._updates.put_nowait(update)

    async def _translated(self, update: TradeUpdate) -> ExecutionReport:
        """The report under our client_order_id. A bracket order never seen is looked for once
        in a listing of recent orders; one that still is not found keeps Alpaca's id."""
        report = update.report
        order_id = report.broker_order_id
        ours = self._ids.client_id(order_id)
        if ours is None and update.bracket and order_id not in self._listed_for:
            self._listed_for.add(order_id)
            await self._learn_recent()
            ours = self._ids.client_id(order_id)
        if ours is None:
            ours = report.client_order_id
        self._ids.remember(ours, order_id, bracket=update.bracket)
        return report if ours == report.client_order_id else replace(report, client_order_id=ours)

    async def _learn_recent(self) -> None:
        """From the newest page of orders, open or not: a leg's entry may have ended long ago."""
        try:
            recent = await self._query(partial(self._orders_sync, None, Sort.DESC))
        except BrokerError as exc:
            log.warning("alpaca_recent_orders_unread", error=repr(exc))
            return
        for order in recent:
            self._ids.learn(order)

    # the synchronous alpaca-py calls, run on the REST thread pool -------------------------

    def _submit_sync(self, request: OrderRequest) -> AlpacaOrder:
        return _expect(self._rest.trading.submit_order(request), AlpacaOrder)

    def _replace_sync(self, broker_id: str, request: ReplaceOrderRequest) -> AlpacaOrder:
        return _expect(self._rest.trading.replace_order_by_id(broker_id, request), AlpacaOrder)

    def _by_client_id_sync(self, client_order_id: str) -> AlpacaOrder:
        return _expect(self._rest.trading.get_order_by_client_id(client_order_id), AlpacaOrder)

    def _nested_sync(self, order_id: str) -> AlpacaOrder:
        nested = GetOrderByIdRequest(nested=True)
        return _expect(self._rest.trading.get_order_by_id(order_id, nested), AlpacaOrder)

    def _orders_sync(self, after_ns: int | None, direction: Sort) -> list[AlpacaOrder]:
        request = GetOrdersRequest(
            status=QueryOrderStatus.ALL,
            limit=self._config.orders_page_size,
            after=None if after_ns is None else ns_datetime(after_ns),
            direction=direction,
            nested=True,
        )
        return _expect_list(self._rest.trading.get_orders(request), AlpacaOrder)

    def _positions_sync(self) -> list[BrokerPosition]:
        answer = self._rest.trading.get_all_positions()
        return [broker_position(p) for p in _expect_list(answer, AlpacaPosition)]

    def _account_sync(self) -> AlpacaAccount:
        return alpaca_account(_expect(self._rest.trading.get_account(), TradeAccount))
