"""SimVenue: a pure, synchronous simulated venue. Backtests drive it directly; SimBroker wraps it.

Time. The venue's clock only moves forward, pushed by the now_ns of requests, by the timestamps
of market data and by advance(). Every request reaches the matching engine latency_ns after the
venue received it, and is in flight until then:

* a new order is SUBMITTED while in flight, then goes live (ACCEPTED report, stamped
  received + latency) and fills only against prints stamped at or after that instant;
* a cancel takes effect latency_ns later. Fills in between still happen, and a cancel that finds
  its order already ended is dropped: the FILL reports have told the story (too late to cancel);
* a replace is checked when received and applied latency_ns later, atomically: the old order
  becomes REPLACED and the new one goes live with the remaining quantity. `qty` is the new total
  quantity, filled shares included (as FIX OrderQty), so the new order carries qty - filled. If
  the old order ended meanwhile, or filled up to the new total, the new order is REJECTED.

Refusals are synchronous: the request raises OrderRejected, nothing is booked, no report is
emitted, as a venue's order entry answers a request. That covers duplicate client_order_id,
bad quantities or prices, insufficient buying power, and cancelling or replacing an order that
is unknown or has ended. A request stamped before the venue's time is taken as received now.

Matching follows app.brokers.sim.fill_model: prints (ticks) fill live orders, quotes only update
the book top. Market orders fill from the first print after they go live; a large order fills
across prints by participation. An IOC order sees one print after going live, then its
remainder is canceled. DAY orders expire in expire_day_orders(); GTC orders stay.

Buying power follows app.brokers.sim.account_book; it is checked at submit and replace only when
reject_insufficient_buying_power is set, against the order's limit or the current reference price.

Brackets. An entry carrying take_profit and stop_loss brings its two legs (app.domain.bracket)
with it: registered, held, silent, until the entry has filled completely; then both go live
(ACCEPTED). The take-profit works as a limit order; the stop-loss waits for a print at or
through its price and then fills as a market order. A fill on either leg cancels the other,
cancelling either cancels both, and an entry that ends without filling completely cancels
its legs. Bracket entries and legs cannot be replaced; legs count nothing against buying power.

Reports leave through app.brokers.sim.report_outbox, where the chaos fault knobs act.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from types import MappingProxyType

from app.brokers.sim.account_book import AccountBook, OrderLeg
from app.brokers.sim.brackets import BracketBook, check_bracket, stop_triggered
from app.brokers.sim.fill_model import BookTop, FillModel
from app.brokers.sim.inflight import CancelRequest, GoLive, InFlight, ReplaceRequest, Request
from app.brokers.sim.ledger import Rejection, VenueLedger
from app.brokers.sim.order_checks import check_price_fields, check_qty
from app.brokers.sim.report_outbox import ReportOutbox
from app.brokers.sim.venue_config import VenueConfig
from app.brokers.sim.working_order import WorkingOrder, venue_copy
from app.domain.execution import ExecutionReport, Fill, ReportKind
from app.domain.ids import IdGenerator
from app.domain.market import Quote, Tick, TickBatch
from app.domain.money import ZERO, InvalidPrice, price_from_float
from app.domain.order import Order, OrderStatus, OrderType, TimeInForce
from app.ports.broker import BrokerAccount, BrokerOrder, BrokerPosition, OrderRejected

__all__ = ["SimVenue", "VenueConfig"]

_FORGET_EVERY_NS = 60_000_000_000  # how often a retaining venue forgets what aged out

_END_REPORTS = {
    OrderStatus.CANCELED: ReportKind.CANCELED,
    OrderStatus.EXPIRED: ReportKind.EXPIRED,
    OrderStatus.REPLACED: ReportKind.REPLACED,
    OrderStatus.REJECTED: ReportKind.REJECTED,
}


class SimVenue:
    """A matching simulator with latency, spread, slippage, participation, fees and an account."""

    def __init__(self, config: VenueConfig, *, ids: IdGenerator) -> None:
        self._config = config
        self._model: FillModel = config.fill_model
        self._ids = ids
        self._account = AccountBook(starting_cash=config.starting_cash)
        self._now_ns = 0
        self._inflight = InFlight()
        self._orders: dict[str, WorkingOrder] = {}
        self._open: dict[str, WorkingOrder] = {}
        self._book: dict[str, dict[str, WorkingOrder]] = {}
        self._tops: dict[str, BookTop] = {}
        self._outbox = ReportOutbox(
            fill_before_ack=config.fill_before_ack,
            duplicate_fill_reports=config.duplicate_fill_reports,
        )
        self._executions: list[Fill] = []
        self._rejections: list[Rejection] = []
        self._ignored_market_data = 0
        self._brackets = BracketBook()
        self._next_forget_ns = 0

    # requests

    def submit(self, order: Order, *, now_ns: int) -> None:
        """Receive a new order; it goes live latency_ns later. Raises OrderRejected."""
        self._process_until(now_ns)
        received = self._now_ns
        copy = venue_copy(order, received_ns=received)
        with self._refusals(order.client_order_id, action="submit"):
            if order.client_order_id in self._orders:
                raise OrderRejected(f"duplicate client_order_id {order.client_order_id}")
            check_qty(order.qty)
            check_price_fields(order.order_type, order.limit_price)
            check_bracket(order)
            self._check_buying_power(self._leg(copy), replacing=None)
        copy.broker_order_id = self._ids.next_id("sim-ord")
        working = self._register(copy, live_ns=received + self._config.latency_ns)
        if copy.has_bracket:
            for leg in self._brackets.add(copy):
                held = venue_copy(leg, received_ns=received)
                held.broker_order_id = self._ids.next_id("sim-ord")
                self._register(held, live_ns=received + self._config.latency_ns)
        self._inflight.schedule(working.live_ns, GoLive(copy.client_order_id))
        self._process_until(received)

    def cancel(self, client_order_id: str, *, now_ns: int) -> None:
        """Ask to cancel an open order; it takes effect latency_ns later. Raises OrderRejected."""
        self._process_until(now_ns)
        received = self._now_ns
        with self._refusals(client_order_id, action="cancel"):
            working = self._require_open(client_order_id, action="cancel")
        if working.cancel_pending:
            return
        working.cancel_pending = True
        self._inflight.schedule(received + self._config.latency_ns, CancelRequest(client_order_id))
        self._process_until(received)

    def replace(
        self,
        client_order_id: str,
        *,
        new_client_order_id: str,
        qty: Decimal | None = None,
        limit_price: Decimal | None = None,
        now_ns: int,
    ) -> None:
        """Ask to replace an open order (qty is the new total); applied latency_ns later."""
        self._process_until(now_ns)
        received = self._now_ns
        with self._refusals(client_order_id, action="replace"):
            old = self._require_open(client_order_id, action="replace")
            if old.order.has_bracket or old.order.is_leg:
                raise OrderRejected(f"{client_order_id} is part of a bracket: cancel it instead")
            if old.replace_pending:
                raise OrderRejected(f"a replace of {client_order_id} is already pending")
            if new_client_order_id in self._orders:
                raise OrderRejected(f"duplicate client_order_id {new_client_order_id}")
            total = old.order.qty if qty is None else qty
            check_qty(total)
            if total <= old.order.filled_qty:
                raise OrderRejected(f"qty {total} is not above filled {old.order.filled_qty}")
            new_limit = old.order.limit_price if limit_price is None else limit_price
            check_price_fields(old.order.order_type, new_limit)
            new_order = dataclasses.replace(
                venue_copy(old.order, received_ns=received),
                client_order_id=new_client_order_id,
                qty=total - old.order.filled_qty,
                limit_price=new_limit,
                created_ns=received,
            )
            self._check_buying_power(self._leg(new_order), replacing=client_order_id)
        new_order.broker_order_id = self._ids.next_id("sim-ord")
        effective = received + self._config.latency_ns
        self._register(new_order, live_ns=effective)
        old.replace_pending = True
        self._inflight.schedule(
            effective,
            ReplaceRequest(old_id=client_order_id, new_id=new_client_order_id, total_qty=total),
        )
        self._process_until(received)

    def seed_position(self, symbol: str, *, qty: Decimal, avg_price: Decimal) -> None:
        """Restore a position held before the venue started; starting_cash has already paid it."""
        self._account.seed(symbol, qty=qty, avg_price=avg_price)

    # market data and time

    def on_tick(self, tick: Tick) -> None:
        """A print: due requests are processed first, then it fills live orders on its symbol."""
        try:
            price = price_from_float(tick.price)
        except InvalidPrice:
            self._ignored_market_data += 1
            return
        self._process_until(tick.ts_ns)
        self._account.mark(tick.symbol, price)
        self._match(tick, price)

    def on_quote(self, quote: Quote) -> None:
        """A top of book; an unusable one (not positive, crossed) clears the symbol's book top."""
        self._process_until(quote.ts_ns)
        top = BookTop.from_quote(quote)
        if top is None:
            self._ignored_market_data += 1
            self._tops.pop(quote.symbol, None)
            return
        self._tops[quote.symbol] = top

    def on_batch(self, batch: TickBatch) -> None:
        """Quotes and ticks in timestamp order; at equal timestamps the quote comes first."""
        events: list[Tick | Quote] = [*batch.quotes, *batch.ticks]
        events.sort(key=lambda event: (event.ts_ns, isinstance(event, Tick)))
        for event in events:
            if isinstance(event, Tick):
                self.on_tick(event)
            else:
                self.on_quote(event)

    def advance(self, now_ns: int) -> None:
        """Let time pass without market data: acks, cancels and replaces that are due happen."""
        self._process_until(now_ns)

    def expire_day_orders(self, now_ns: int) -> None:
        """Session close: every open DAY order, in flight or live, ends EXPIRED."""
        self._process_until(now_ns)
        for working in list(self._open.values()):
            if working.order.is_open and working.order.tif is TimeInForce.DAY:
                self._end(working, OrderStatus.EXPIRED, ts_ns=self._now_ns, reason="session closed")

    # views

    def drain_reports(self) -> list[ExecutionReport]:
        """Execution reports emitted since the last drain, in emission order."""
        return self._outbox.drain()

    def order(self, client_order_id: str) -> BrokerOrder | None:
        working = self._orders.get(client_order_id)
        return None if working is None else working.broker_order()

    def positions(self) -> list[BrokerPosition]:
        return self._account.positions()

    def account(self) -> BrokerAccount:
        return BrokerAccount(
            cash=self._account.cash,
            equity=self._account.equity(),
            buying_power=self._account.buying_power(
                multiplier=self._config.buying_power_multiplier, legs=self._open_legs()
            ),
        )

    @property
    def ledger(self) -> VenueLedger:
        return VenueLedger(
            orders=MappingProxyType(
                {cid: dataclasses.replace(w.order) for cid, w in self._orders.items()}
            ),
            executions=tuple(self._executions),
            rejections=tuple(self._rejections),
            ignored_market_data=self._ignored_market_data,
        )

    # time and requests in flight

    def _process_until(self, now_ns: int) -> None:
        while (due := self._inflight.pop_due(now_ns)) is not None:
            due_ns, request = due
            self._now_ns = max(self._now_ns, due_ns)
            self._apply(request)
        self._now_ns = max(self._now_ns, now_ns)
        if self._config.retain_ns is not None and self._now_ns >= self._next_forget_ns:
            self._forget_before(self._now_ns - self._config.retain_ns)
            self._next_forget_ns = self._now_ns + _FORGET_EVERY_NS

    def _apply(self, request: Request) -> None:
        match request:
            case GoLive(client_order_id):
                self._go_live(self._orders[client_order_id])
            case CancelRequest(client_order_id):
                working = self._orders[client_order_id]
                working.cancel_pending = False
                if working.order.is_open:
                    self._end(working, OrderStatus.CANCELED, ts_ns=self._now_ns, reason="canceled")
                    self._end_sibling(working, reason="its other leg was canceled")
            case ReplaceRequest(old_id=old_id, new_id=new_id, total_qty=total_qty):
                self._apply_replace(self._orders[old_id], self._orders[new_id], total_qty)

    def _go_live(self, working: WorkingOrder) -> None:
        if not working.order.is_open:
            return
        working.order.transition(OrderStatus.ACCEPTED, now_ns=self._now_ns)
        self._book.setdefault(working.order.symbol, {})[working.order.client_order_id] = working
        self._outbox.went_live(working)

    def _apply_replace(self, old: WorkingOrder, new: WorkingOrder, total_qty: Decimal) -> None:
        old.replace_pending = False
        if not new.order.is_open:
            return
        if not old.order.is_open or old.order.filled_qty >= total_qty:
            reason = f"too late to replace {old.order.client_order_id}: {old.order.status}"
            self._end(new, OrderStatus.REJECTED, ts_ns=self._now_ns, reason=reason)
            return
        new.order.qty = total_qty - old.order.filled_qty
        reason = f"replaced by {new.order.client_order_id}"
        self._end(old, OrderStatus.REPLACED, ts_ns=self._now_ns, reason=reason)
        self._go_live(new)

    # matching

    def _match(self, tick: Tick, price: Decimal) -> None:
        book = self._book.get(tick.symbol)
        if not book:
            return
        available = self._model.print_allowance(tick.size)
        top = self._tops.get(tick.symbol)
        for working in list(book.values()):
            if working.live_ns > tick.ts_ns:
                continue
            order = working.order
            fill_price = self._fill_price(working, last=price, top=top)
            if fill_price is not None and available > ZERO:
                qty = min(available, order.remaining)
                available -= qty
                self._fill(working, qty=qty, price=fill_price, ts_ns=tick.ts_ns)
            working.resting = True
            if order.tif is TimeInForce.IOC and order.is_open:
                self._end(working, OrderStatus.CANCELED, ts_ns=tick.ts_ns, reason="ioc remainder")

    def _fill_price(
        self, working: WorkingOrder, *, last: Decimal, top: BookTop | None
    ) -> Decimal | None:
        order = working.order
        if order.order_type is OrderType.STOP and order.stop_price is not None:
            working.triggered = working.triggered or stop_triggered(
                order.side, stop=order.stop_price, last=last
            )
            if not working.triggered:
                return None
            return self._model.market_price(order.side, last=last, top=top)
        if order.order_type is OrderType.MARKET or order.limit_price is None:
            return self._model.market_price(order.side, last=last, top=top)
        return self._model.limit_price(
            order.side, limit=order.limit_price, last=last, top=top, resting=working.resting
        )

    def _fill(self, working: WorkingOrder, *, qty: Decimal, price: Decimal, ts_ns: int) -> None:
        order = working.order
        execution = Fill(
            execution_id=self._ids.next_id("sim-exec"),
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            qty=qty,
            price=price,
            ts_ns=ts_ns,
            fee=self._model.fee(qty),
        )
        order.apply_fill(qty, price, now_ns=ts_ns)
        self._account.apply_fill(
            symbol=order.symbol, side=order.side, qty=qty, price=price, fee=execution.fee
        )
        self._executions.append(execution)
        if not order.is_open:
            self._close(working)
        self._outbox.emit(working, ReportKind.FILL, ts_ns=ts_ns, execution=execution)
        if order.is_leg:
            self._end_sibling(working, reason="one cancels other")
        elif order.status is OrderStatus.FILLED:
            self._activate_legs(order.client_order_id, ts_ns=ts_ns)

    def _activate_legs(self, entry_id: str, *, ts_ns: int) -> None:
        """The entry has filled completely: its legs go live, to fill from the next print."""
        for leg_id in self._brackets.legs(entry_id):
            leg = self._orders[leg_id]
            if leg.order.is_open:
                leg.live_ns = ts_ns + 1
                self._go_live(leg)

    def _end_sibling(self, working: WorkingOrder, *, reason: str) -> None:
        sibling_id = self._brackets.sibling(working.order.client_order_id)
        sibling = None if sibling_id is None else self._orders[sibling_id]
        if sibling is not None and sibling.order.is_open:
            self._end(sibling, OrderStatus.CANCELED, ts_ns=self._now_ns, reason=reason)

    def _forget_before(self, cutoff_ns: int) -> None:
        """Orders that ended before cutoff_ns, each with its bracket's legs once all have ended
        by then, and executions and refusals stamped before it. Orders are registered as they
        arrive, so the scan stops at the first one that went live at or after the cutoff."""
        ended: list[str] = []
        for client_order_id, working in self._orders.items():
            if working.order.is_leg:
                continue
            if working.live_ns >= cutoff_ns:
                break
            legs = self._brackets.legs(client_order_id)
            group = [working.order, *(self._orders[leg].order for leg in legs)]
            if all(not order.is_open and order.updated_ns < cutoff_ns for order in group):
                ended.append(client_order_id)
        for client_order_id in ended:
            del self._orders[client_order_id]
            for leg_id in self._brackets.forget(client_order_id):
                del self._orders[leg_id]
        self._executions = [e for e in self._executions if e.ts_ns >= cutoff_ns]
        self._rejections = [r for r in self._rejections if r.ts_ns >= cutoff_ns]

    # order book keeping and reports

    def _register(self, order: Order, *, live_ns: int) -> WorkingOrder:
        working = WorkingOrder(order=order, live_ns=live_ns)
        self._orders[order.client_order_id] = working
        self._open[order.client_order_id] = working
        return working

    def _end(self, working: WorkingOrder, status: OrderStatus, *, ts_ns: int, reason: str) -> None:
        working.order.transition(status, now_ns=ts_ns, reason=reason)
        self._close(working)
        self._outbox.emit(working, _END_REPORTS[status], ts_ns=ts_ns, reason=reason)
        for leg_id in self._brackets.legs(working.order.client_order_id):
            leg = self._orders[leg_id]
            if leg.order.is_open:
                why = f"entry {status.value} before it filled"
                self._end(leg, OrderStatus.CANCELED, ts_ns=ts_ns, reason=why)

    def _close(self, working: WorkingOrder) -> None:
        client_order_id = working.order.client_order_id
        self._open.pop(client_order_id, None)
        self._book.get(working.order.symbol, {}).pop(client_order_id, None)

    # checks

    @contextmanager
    def _refusals(self, client_order_id: str, *, action: str) -> Iterator[None]:
        try:
            yield
        except OrderRejected as exc:
            reason, ts_ns = str(exc), self._now_ns
            refusal = Rejection(
                client_order_id=client_order_id, action=action, reason=reason, ts_ns=ts_ns
            )
            self._rejections.append(refusal)
            raise

    def _require_open(self, client_order_id: str, *, action: str) -> WorkingOrder:
        working = self._orders.get(client_order_id)
        if working is None:
            raise OrderRejected(f"cannot {action} unknown order {client_order_id}")
        if not working.order.is_open:
            raise OrderRejected(f"cannot {action} {client_order_id}: {working.order.status}")
        return working

    def _check_buying_power(self, leg: OrderLeg | None, *, replacing: str | None) -> None:
        if not self._config.reject_insufficient_buying_power:
            return
        if leg is None:
            raise OrderRejected("no price to check buying power against")
        replaced = None if replacing is None else self._open.get(replacing)
        dropping = None
        if replaced is not None and not replaced.order.is_leg:
            dropping = self._leg(replaced.order)
        equity, before, after = self._account.order_change(
            self._open_legs(), adding=leg, dropping=dropping
        )
        if after > before and equity * self._config.buying_power_multiplier - after < ZERO:
            raise OrderRejected("insufficient buying power")

    def _open_legs(self) -> Iterator[OrderLeg]:
        for working in self._open.values():
            if working.order.is_leg:
                continue
            leg = self._leg(working.order)
            if leg is not None:
                yield leg

    def _leg(self, order: Order) -> OrderLeg | None:
        return OrderLeg.of(
            order,
            top=self._tops.get(order.symbol),
            last=self._account.valuation_price(order.symbol),
        )
