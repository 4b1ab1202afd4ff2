"""IbkrBroker: the Broker port over ib_async and an IbkrSession.

A submit waits for the venue's answer (openOrder / orderStatus / an execution, or a refusal)
up to `request_timeout_s`: a refusal raises OrderRejected; no answer, or the connection going
while waiting, raises TransientBrokerError, and the order is then resolved by looking its
client order id up (it is IB's orderRef, so it survives reconnects and restarts). Not being
connected at all raises BrokerUnavailable: nothing was sent.

Reports come from ib_async's events in the order IB sends them; reports() reads one queue, so
there is meant to be one consumer. After every (re)connect the executions and order states
ib_async synchronised are swept into reports too, so fills made while disconnected arrive;
nothing is reported twice within a process, and the ledger dedups fills across processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable
from decimal import Decimal

import msgspec
import structlog
from ib_async import Fill, Stock, Trade

from app.brokers.ibkr.errors import is_rejection
from app.brokers.ibkr.lookup import answered, find_order, listed_orders, reason, rejected
from app.brokers.ibkr.orders import (
    ENDED,
    NativeStop,
    OrderFields,
    UnsupportedOrder,
    apply_replace,
    ib_order_for,
    stock,
)
from app.brokers.ibkr.reports import ReportBook, listed_fills
from app.brokers.ibkr.session import IbkrSession
from app.brokers.ibkr.values import decimal_from
from app.domain.execution import ExecutionReport
from app.domain.money import to_avg_price, to_cents
from app.domain.order import Order, OrderStatus
from app.ports.broker import (
    BrokerAccount,
    BrokerError,
    BrokerOrder,
    BrokerPosition,
    BrokerUnavailable,
    OrderRejected,
    TransientBrokerError,
)
from app.ports.clock import Clock

log = structlog.get_logger()

OrderKey = tuple[int, int]
ACCOUNT_TAGS = ("NetLiquidation", "TotalCashValue", "BuyingPower")


class IbkrBroker:
    def __init__(self, session: IbkrSession, *, clock: Clock) -> None:
        session.add_listener(self)
        self._session = session
        self._config = session.config
        self._clock = clock
        self._book = ReportBook()
        self._queue: asyncio.Queue[ExecutionReport] = asyncio.Queue()
        self._acks: dict[OrderKey, asyncio.Future[None]] = {}
        self._modifies: dict[OrderKey, asyncio.Future[None]] = {}
        self._replaced: dict[str, BrokerOrder] = {}
        self._refresh_lock = asyncio.Lock()
        self._positions_lock = asyncio.Lock()
        ib = session.ib
        ib.openOrderEvent += self._on_open_order
        ib.orderStatusEvent += self._on_status
        ib.execDetailsEvent += self._on_execution
        ib.errorEvent += self._on_error
        ib.updateEvent += self._on_packet

    # orders --------------------------------------------------------------------------------
    async def submit(self, order: Order, *, stop: NativeStop | None = None) -> None:
        """Send a new order; `stop` makes it a native stop / stop-limit / trailing stop."""
        try:
            ib_order = ib_order_for(order, stop=stop, account=self._config.account)
        except UnsupportedOrder as exc:
            raise OrderRejected(str(exc)) from exc
        ib = self._session.require()
        earlier = self._trades_with_ref(order.client_order_id)
        if earlier:
            if all(rejected(t) for t in earlier):
                raise OrderRejected(f"{order.client_order_id} was refused: {reason(earlier[-1])}")
            log.warning("ibkr_submit_repeated", order=order.client_order_id)
            return
        try:
            trade = ib.placeOrder(self._contract(order.symbol), ib_order)
        except ConnectionError as exc:
            raise BrokerUnavailable(f"submit {order.client_order_id}: {exc}") from exc
        await self._answer(self._acks, self._key(trade), action=f"submit {order.client_order_id}")

    async def cancel(self, client_order_id: str) -> None:
        ib = self._session.require()
        trade = await self._working(client_order_id)
        try:
            ib.cancelOrder(trade.order)
        except ConnectionError as exc:
            raise BrokerUnavailable(f"cancel {client_order_id}: {exc}") from exc

    async def replace(
        self,
        client_order_id: str,
        *,
        new_client_order_id: str,
        qty: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop: NativeStop | None = None,
    ) -> None:
        """IB's atomic modify: the same IB order (same orderId) gets the new quantity (the new
        total), prices, and `new_client_order_id` as its orderRef. The old id ends REPLACED;
        fills from here on are reported under the new id."""
        ib = self._session.require()
        trade = await self._working(client_order_id)
        if self._trades_with_ref(new_client_order_id):
            raise OrderRejected(f"duplicate client_order_id {new_client_order_id}")
        before_view = self._find(client_order_id)
        if qty is not None and before_view is not None and qty <= before_view.filled_qty:
            raise OrderRejected(f"qty {qty} is not above filled {before_view.filled_qty}")
        before = OrderFields.of(trade.order)
        try:
            apply_replace(
                trade.order,
                new_ref=new_client_order_id,
                qty=qty,
                limit_price=limit_price,
                stop=stop,
            )
        except UnsupportedOrder as exc:
            before.restore(trade.order)
            raise OrderRejected(str(exc)) from exc
        try:
            ib.placeOrder(trade.contract, trade.order)
        except ConnectionError as exc:
            before.restore(trade.order)
            raise BrokerUnavailable(f"replace {client_order_id}: {exc}") from exc
        try:
            await self._answer(
                self._modifies, self._key(trade), action=f"replace {client_order_id}"
            )
        except OrderRejected:
            before.restore(trade.order)
            await self._resync_after_refusal()
            raise
        except BaseException:
            before.restore(trade.order)
            raise
        if before_view is not None:
            self._replaced[client_order_id] = msgspec.structs.replace(
                before_view, status=OrderStatus.REPLACED
            )
        now = self._clock.now_ns()
        self._publish(self._book.replaced(trade, old_coid=client_order_id, now_ns=now))
        self._publish(self._book.status_seen(trade, now_ns=now))

    async def _resync_after_refusal(self) -> None:
        """ib_async marks an order cancelled when IB refuses a modify of it, though IB keeps
        the order working: asking for the open orders again puts the true state back."""
        try:
            await self._refresh()
        except BrokerError as exc:
            log.warning("ibkr_resync_failed", error=repr(exc))

    async def order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        """The venue's view of the order. What ib_async holds is tried first; if it does not
        know the order, open orders, completed orders and executions are asked for again.
        Raises TransientBrokerError when IB does not answer, BrokerUnavailable when down."""
        if client_order_id in self._replaced:
            return self._replaced[client_order_id]
        found = self._find(client_order_id)
        if found is None:
            await self._refresh()
            found = self._find(client_order_id)
        return found

    async def orders(self, *, since_ns: int) -> list[BrokerOrder]:
        """Every order IB lists (open, completed, or known by its executions) first seen at or
        after `since_ns`; IB's lists cover the current session."""
        await self._refresh()
        ib = self._session.ib
        return listed_orders(ib.trades(), ib.fills(), since_ns=since_ns)

    async def fills(self, *, since_ns: int) -> list[ExecutionReport]:
        """IB's executions at or after `since_ns`, under their execution ids."""
        await self._refresh()
        return listed_fills(self._session.ib.fills(), since_ns=since_ns)

    async def positions(self) -> list[BrokerPosition]:
        ib = self._session.require()
        async with self._positions_lock:
            await self._ask(ib.reqPositionsAsync(), what="positions")
        held: list[BrokerPosition] = []
        for position in ib.positions(self._session.account):
            if position.contract.secType != "STK" or position.position == 0:
                continue
            held.append(
                BrokerPosition(
                    symbol=position.contract.symbol,
                    qty=decimal_from(position.position),
                    avg_price=to_avg_price(decimal_from(position.avgCost)),
                )
            )
        return sorted(held, key=lambda p: p.symbol)

    async def account(self) -> BrokerAccount:
        """Account values as IB's account-update subscription last pushed them."""
        ib = self._session.require()
        values = {
            v.tag: v.value
            for v in ib.accountValues(self._session.account)
            if v.tag in ACCOUNT_TAGS and v.currency == self._config.currency
        }
        missing = [tag for tag in ACCOUNT_TAGS if tag not in values]
        if missing:
            raise TransientBrokerError(f"IB has not sent account values {missing} yet")
        return BrokerAccount(
            cash=to_cents(decimal_from(values["TotalCashValue"])),
            equity=to_cents(decimal_from(values["NetLiquidation"])),
            buying_power=to_cents(decimal_from(values["BuyingPower"])),
        )

    async def reports(self) -> AsyncGenerator[ExecutionReport, None]:
        while True:
            yield await self._queue.get()

    # session listener ----------------------------------------------------------------------
    async def session_up(self) -> None:
        self._sweep()

    def session_down(self) -> None:
        lost = TransientBrokerError("the connection to IB went while waiting for an answer")
        for futures in (self._acks, self._modifies):
            for future in futures.values():
                if not future.done():
                    future.set_exception(lost)
        self._book.forget_waiting()

    def connectivity_lost(self) -> None:
        """Orders keep working at IB while TWS is cut off; nothing to do until it is back."""

    async def connectivity_restored(self, *, data_lost: bool) -> None:
        if data_lost:
            await self._refresh()

    # helpers -------------------------------------------------------------------------------
    def _key(self, trade: Trade) -> OrderKey:
        return (trade.order.clientId or self._config.client_id, trade.order.orderId)

    def _contract(self, symbol: str) -> Stock:
        return stock(symbol, exchange=self._config.exchange, currency=self._config.currency)

    def _trades_with_ref(self, client_order_id: str) -> list[Trade]:
        return [t for t in self._session.ib.trades() if t.order.orderRef == client_order_id]

    def _find(self, client_order_id: str) -> BrokerOrder | None:
        ib = self._session.ib
        return find_order(client_order_id, ib.trades(), ib.fills())

    async def _working(self, client_order_id: str) -> Trade:
        """The open order with this id, placed by this client (only it may change it)."""
        trades = [t for t in self._trades_with_ref(client_order_id) if not t.isDone()]
        if not trades:
            await self._refresh()
            trades = [t for t in self._trades_with_ref(client_order_id) if not t.isDone()]
        if not trades:
            raise OrderRejected(f"{client_order_id} is not open at IB")
        trade = trades[-1]
        if trade.order.clientId != self._config.client_id:
            raise OrderRejected(
                f"{client_order_id} belongs to IB client {trade.order.clientId}, "
                f"not {self._config.client_id}"
            )
        return trade

    async def _answer(
        self, futures: dict[OrderKey, asyncio.Future[None]], key: OrderKey, *, action: str
    ) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        futures[key] = future
        try:
            await asyncio.wait_for(future, self._config.request_timeout_s)
        except TimeoutError as exc:
            raise TransientBrokerError(
                f"{action}: no answer from IB within {self._config.request_timeout_s}s"
            ) from exc
        finally:
            futures.pop(key, None)

    async def _ask(self, request: Awaitable[object], *, what: str) -> None:
        try:
            await asyncio.wait_for(request, self._config.request_timeout_s)
        except (TimeoutError, ConnectionError) as exc:
            raise TransientBrokerError(f"IB did not answer the {what} request: {exc!r}") from exc

    async def _refresh(self) -> None:
        """Ask IB again for every open order, the completed orders and the executions."""
        ib = self._session.require()
        async with self._refresh_lock:
            await self._ask(ib.reqAllOpenOrdersAsync(), what="open orders")
            await self._ask(ib.reqCompletedOrdersAsync(apiOnly=False), what="completed orders")
            await self._ask(ib.reqExecutionsAsync(), what="executions")
        self._sweep()

    def _sweep(self) -> None:
        """Report whatever ib_async now knows that was not reported yet."""
        ib = self._session.ib
        now = self._clock.now_ns()
        for fill in ib.fills():
            self._publish(self._book.fill_seen(fill))
        for trade in ib.trades():
            if answered(trade):
                self._publish(self._book.status_seen(trade, now_ns=now))

    def _publish(self, reports: list[ExecutionReport]) -> None:
        for report in reports:
            self._queue.put_nowait(report)

    @staticmethod
    def _settle(future: asyncio.Future[None] | None, error: Exception | None = None) -> None:
        if future is None or future.done():
            return
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)

    # events from ib_async ------------------------------------------------------------------
    def _on_open_order(self, trade: Trade) -> None:
        key = self._key(trade)
        self._settle(self._acks.get(key))
        self._settle(self._modifies.get(key))

    def _on_status(self, trade: Trade) -> None:
        key = self._key(trade)
        status = trade.orderStatus.status
        if not answered(trade):
            return
        refusal = OrderRejected(reason(trade) or status) if rejected(trade) else None
        self._settle(self._acks.get(key), refusal if status in ENDED else None)
        if key in self._modifies:
            if status in ENDED:
                self._settle(self._modifies[key], refusal)
            return
        self._publish(self._book.status_seen(trade, now_ns=self._clock.now_ns()))

    def _on_execution(self, trade: Trade, fill: Fill) -> None:
        self._settle(self._acks.get(self._key(trade)))
        self._publish(self._book.fill_seen(fill))

    def _on_error(self, req_id: int, code: int, message: str, _contract: object) -> None:
        if not is_rejection(code):
            return
        key = (self._config.client_id, req_id)
        refusal = OrderRejected(f"IB error {code}: {message}")
        self._settle(self._acks.get(key), refusal)
        self._settle(self._modifies.get(key), refusal)

    def _on_packet(self) -> None:
        self._publish(self._book.commissions_arrived())
