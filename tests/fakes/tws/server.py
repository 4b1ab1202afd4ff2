"""A fake TWS / IB Gateway: the TWS API socket protocol on a free loopback port.

It speaks server version 157 well enough for ib_async's real client: the handshake, the
startup synchronisation (positions, open and completed orders, account updates, executions),
orders with their openOrder / orderStatus / execDetails / commissionReport, contract details,
market data, and the connectivity notices. Its ledger is what the venue recorded; tests drive
prices with `trade()` / `quote()` and faults through `faults` and the methods below.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from tests.fakes.tcp_server import FakeTcpServer
from tests.fakes.tws import messages as msg
from tests.fakes.tws.faults import TwsFaults
from tests.fakes.tws.ledger import FakeOrder, TwsLedger
from tests.fakes.tws.requests import contract_symbol, parse_place_order
from tests.fakes.tws.wire import Field, frame, read_handshake, read_message

NOTICES = {
    1100: "Connectivity between IB and Trader Workstation has been lost.",
    1101: "Connectivity between IB and Trader Workstation has been restored - data lost.",
    1102: "Connectivity between IB and Trader Workstation has been restored - data maintained.",
    2110: "Connectivity between Trader Workstation and server is broken. It will be restored "
    "automatically.",
}


@dataclass(eq=False)
class TwsConnection:
    """One client connection and what it subscribed to."""

    writer: asyncio.StreamWriter
    client_id: int = -1
    market_data: dict[int, str] = field(default_factory=dict)
    account_updates: bool = False
    positions: bool = False
    silent: bool = False

    def send(self, fields: list[Field]) -> None:
        if not self.silent and not self.writer.is_closing():
            self.writer.write(frame(fields))


class FakeTws(FakeTcpServer):
    def __init__(
        self,
        *,
        account: str = "DU1000001",
        cash: Decimal = Decimal("100000"),
        now_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        super().__init__()
        self.ledger = TwsLedger(account=account, cash=cash, now_ns=now_ns)
        self.faults = TwsFaults()
        self.requests: list[list[str]] = []
        self.refused = 0
        self.max_concurrent = 0
        self.unhandled: list[list[str]] = []
        self.live: list[TwsConnection] = []
        self._dispatch: dict[int, Callable[[TwsConnection, list[str]], None]] = {
            msg.START_API: self._start_api,
            msg.REQ_IDS: self._req_ids,
            msg.REQ_MANAGED_ACCOUNTS: lambda c, _: c.send(msg.managed_accounts(self._account)),
            msg.PLACE_ORDER: self._place_order,
            msg.CANCEL_ORDER: self._cancel_order,
            msg.REQ_OPEN_ORDERS: lambda c, _: self._open_orders(c, everyone=False),
            msg.REQ_ALL_OPEN_ORDERS: lambda c, _: self._open_orders(c, everyone=True),
            msg.REQ_COMPLETED_ORDERS: self._completed_orders,
            msg.REQ_EXECUTIONS: self._executions,
            msg.REQ_POSITIONS: self._positions,
            msg.REQ_ACCOUNT_UPDATES: self._account_updates,
            msg.REQ_ACCOUNT_UPDATES_MULTI: self._account_updates_multi,
            msg.REQ_ACCOUNT_SUMMARY: self._account_summary,
            msg.REQ_CONTRACT_DETAILS: self._contract_details,
            msg.REQ_MKT_DATA: self._req_mkt_data,
            msg.CANCEL_MKT_DATA: self._cancel_mkt_data,
            msg.REQ_CURRENT_TIME: lambda c, _: c.send(msg.current_time(self.ledger.now_ns())),
            msg.REQ_MARKET_DATA_TYPE: _ignore,
            msg.REQ_AUTO_OPEN_ORDERS: _ignore,
            msg.CANCEL_POSITIONS: _ignore,
            msg.CANCEL_ACCOUNT_SUMMARY: _ignore,
            msg.CANCEL_ACCOUNT_UPDATES_MULTI: _ignore,
        }

    @property
    def _account(self) -> str:
        return self.ledger.account

    # driving the venue ---------------------------------------------------------------------
    def trade(self, symbol: str, price: str | Decimal, size: int = 100) -> None:
        """A print: the mark moves, subscribers get the tick, resting orders may fill."""
        px = Decimal(price)
        self.ledger.marks[symbol] = px
        self._tick(symbol, [msg.tick_price(0, msg.LAST, px, size)])
        for order in sorted(self.ledger.orders.values(), key=lambda o: o.perm_id):
            if order.symbol == symbol and self._fill_if_marketable(order):
                self._send_status(order)

    def quote(
        self, symbol: str, bid: str, ask: str, *, bid_size: int = 100, ask_size: int = 100
    ) -> None:
        self._tick(
            symbol,
            [
                msg.tick_price(0, msg.BID, Decimal(bid), bid_size),
                msg.tick_price(0, msg.ASK, Decimal(ask), ask_size),
            ],
        )

    def execute(self, ref: str, qty: str | Decimal, price: str | Decimal) -> None:
        """Fill part of the open order with this reference, whatever the mark says."""
        (order,) = [o for o in self.ledger.by_ref(ref) if o.is_open]
        self._execute(order, Decimal(qty), Decimal(price))
        self._send_status(order)

    def cancel_at_venue(self, ref: str) -> None:
        """The venue ends an order on its own (a DAY order at the close, a risk check)."""
        (order,) = [o for o in self.ledger.by_ref(ref) if o.is_open]
        self.ledger.end(order, "Cancelled", "Cancelled by System")
        self._send_status(order)

    def notice(self, code: int) -> None:
        """A connectivity notice to every client; 1101 means the farm forgot the market data."""
        for conn in self.live:
            conn.send(msg.error(msg.NO_REQUEST, code, NOTICES[code]))
            if code == 1101:
                conn.market_data.clear()

    def drop_connections(self) -> None:
        for conn in self.live:
            conn.writer.close()

    def silence(self) -> None:
        """The connections open now go quiet both ways (a half-open socket); new ones work."""
        for conn in self.live:
            conn.silent = True

    def subscriptions(self) -> list[str]:
        """Every live market-data subscription's symbol, sorted, duplicates kept."""
        return sorted(s for conn in self.live for s in conn.market_data.values())

    def requests_of(self, message_id: int) -> list[list[str]]:
        return [r for r in self.requests if int(r[0]) == message_id]

    def orders_with_ref(self, ref: str) -> list[FakeOrder]:
        return self.ledger.by_ref(ref)

    # the connection ------------------------------------------------------------------------
    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.faults.refuse_connections:
            self.refused += 1
            return
        await read_handshake(reader)
        conn = TwsConnection(writer)
        conn.send(msg.handshake_reply(self.ledger.now_ns()))
        self.live.append(conn)
        self.max_concurrent = max(self.max_concurrent, len(self.live))
        try:
            while True:
                fields = await read_message(reader)
                if self.faults.delay_s:
                    await asyncio.sleep(self.faults.delay_s)
                self.requests.append(fields)
                handler = self._dispatch.get(int(fields[0]))
                if handler is None:
                    self.unhandled.append(fields)
                else:
                    handler(conn, fields)
        finally:
            self.live.remove(conn)

    def _owners(self, order: FakeOrder) -> list[TwsConnection]:
        return [c for c in self.live if c.client_id == order.client_id]

    # handshake and ids ---------------------------------------------------------------------
    def _start_api(self, conn: TwsConnection, fields: list[str]) -> None:
        conn.client_id = int(fields[2])
        conn.send(msg.managed_accounts(self._account))
        self._req_ids(conn, fields)

    def _req_ids(self, conn: TwsConnection, _: list[str]) -> None:
        conn.send(msg.next_valid_id(self.ledger.next_order_id(conn.client_id)))

    # orders --------------------------------------------------------------------------------
    def _place_order(self, conn: TwsConnection, fields: list[str]) -> None:
        ticket = parse_place_order(fields)
        existing = self.ledger.find(conn.client_id, ticket.order_id)
        reason = self.faults.reject_symbols.get(ticket.symbol)
        if reason is not None:
            if existing is None:
                self.ledger.end(self.ledger.place(conn.client_id, ticket), "Cancelled", "Rejected")
            conn.send(msg.error(ticket.order_id, 201, f"Order rejected - reason:{reason}"))
            return
        if existing is not None:
            if not existing.is_open:
                conn.send(msg.error(ticket.order_id, 103, "Duplicate order id"))
                return
            self.ledger.modify(existing, ticket)
            self._send_order(existing)
            if self._fill_if_marketable(existing):
                self._send_status(existing)
            return
        order = self.ledger.place(conn.client_id, ticket)
        if self.faults.drop_on_place:
            conn.writer.close()
            self._fill_if_marketable(order)
            return
        if self.faults.fill_before_ack:
            self._fill_if_marketable(order)
            self._send_order(order)
            return
        self._send_order(order)
        if self._fill_if_marketable(order):
            self._send_status(order)

    def _cancel_order(self, conn: TwsConnection, fields: list[str]) -> None:
        order_id = int(fields[2])
        order = self.ledger.find(conn.client_id, order_id)
        if order is None or not order.is_open:
            conn.send(msg.error(order_id, 161, "Cancel attempted when order is not cancellable"))
            return
        self.ledger.end(order, "Cancelled", "Cancelled by Trader")
        self._send_status(order)
        conn.send(msg.error(order_id, 202, "Order Canceled - reason:"))

    def _fill_if_marketable(self, order: FakeOrder) -> bool:
        price = self.ledger.fill_price(order)
        if price is None:
            return False
        self._execute(order, self.ledger.fill_qty(order), price)
        return True

    def _execute(self, order: FakeOrder, qty: Decimal, price: Decimal) -> None:
        execution = self.ledger.execute(order, qty, price)
        con_id = self.ledger.con_id(order.symbol)
        copies = 2 if self.faults.duplicate_exec_details else 1
        for conn in self._owners(order):
            for _ in range(copies):
                conn.send(msg.exec_details(msg.NO_REQUEST, execution, con_id, order.account))
                conn.send(msg.commission_report(execution))
        self._holdings_changed(order.symbol)

    def _send_order(self, order: FakeOrder) -> None:
        for conn in self._owners(order):
            conn.send(msg.open_order(order, self.ledger.con_id(order.symbol)))
            conn.send(msg.order_status(order))

    def _send_status(self, order: FakeOrder) -> None:
        for conn in self._owners(order):
            conn.send(msg.order_status(order))

    def _open_orders(self, conn: TwsConnection, *, everyone: bool) -> None:
        for order in sorted(self.ledger.orders.values(), key=lambda o: o.perm_id):
            if order.is_open and (everyone or order.client_id == conn.client_id):
                conn.send(msg.open_order(order, self.ledger.con_id(order.symbol)))
                conn.send(msg.order_status(order))
        conn.send(msg.end_of(53))

    def _completed_orders(self, conn: TwsConnection, _: list[str]) -> None:
        now = self.ledger.now_ns()
        for order in sorted(self.ledger.orders.values(), key=lambda o: o.perm_id):
            if not order.is_open:
                conn.send(msg.completed_order(order, self.ledger.con_id(order.symbol), now))
        conn.send(msg.end_of(102))

    def _executions(self, conn: TwsConnection, fields: list[str]) -> None:
        req_id, client_filter = int(fields[2]), int(fields[3] or 0)
        for execution in self.ledger.executions:
            if client_filter and execution.client_id != client_filter:
                continue
            con_id = self.ledger.con_id(execution.symbol)
            conn.send(msg.exec_details(req_id, execution, con_id, self._account))
            conn.send(msg.commission_report(execution))
        conn.send(msg.end_of(55, req_id))

    # account and positions -----------------------------------------------------------------
    def _positions(self, conn: TwsConnection, _: list[str]) -> None:
        conn.positions = True
        for symbol in sorted(self.ledger.holdings):
            conn.send(self._position(symbol))
        conn.send(msg.end_of(62))

    def _position(self, symbol: str) -> list[Field]:
        holding = self.ledger.holdings[symbol]
        con_id = self.ledger.con_id(symbol)
        return msg.position(self._account, symbol, con_id, holding.qty, holding.avg_cost)

    def _account_updates(self, conn: TwsConnection, fields: list[str]) -> None:
        conn.account_updates = fields[2] == "1"
        if conn.account_updates:
            self._send_account(conn, symbols=sorted(self.ledger.holdings))
            conn.send(msg.account_download_end(self._account))

    def _send_account(self, conn: TwsConnection, *, symbols: list[str]) -> None:
        for tag, value in self.ledger.account_values().items():
            conn.send(msg.account_value(tag, value, self._account))
        for symbol in symbols:
            holding = self.ledger.holdings[symbol]
            mark = self.ledger.marks.get(symbol, holding.avg_cost)
            con_id = self.ledger.con_id(symbol)
            conn.send(
                msg.portfolio(self._account, symbol, con_id, holding.qty, holding.avg_cost, mark)
            )
        conn.send(msg.account_time(self.ledger.now_ns()))

    def _account_updates_multi(self, conn: TwsConnection, fields: list[str]) -> None:
        req_id = int(fields[2])
        for tag, value in self.ledger.account_values().items():
            conn.send(msg.account_update_multi(req_id, self._account, tag, value))
        conn.send(msg.end_of(74, req_id))

    def _account_summary(self, conn: TwsConnection, fields: list[str]) -> None:
        req_id = int(fields[2])
        for tag, value in self.ledger.account_values().items():
            conn.send(msg.account_summary(req_id, self._account, tag, value))
        conn.send(msg.end_of(64, req_id))

    def _holdings_changed(self, symbol: str) -> None:
        for conn in self.live:
            if conn.positions:
                conn.send(self._position(symbol))
            if conn.account_updates:
                self._send_account(conn, symbols=[symbol])

    # market data ---------------------------------------------------------------------------
    def _contract_details(self, conn: TwsConnection, fields: list[str]) -> None:
        req_id, symbol, sec_type = contract_symbol(fields)
        if sec_type != "STK" or symbol in self.faults.unknown_symbols:
            conn.send(msg.error(req_id, 200, "No security definition has been found"))
            return
        conn.send(msg.contract_details(req_id, symbol, self.ledger.con_id(symbol)))
        conn.send(msg.end_of(52, req_id))

    def _req_mkt_data(self, conn: TwsConnection, fields: list[str]) -> None:
        req_id, symbol, _ = contract_symbol(fields)
        conn.market_data[req_id] = symbol

    def _cancel_mkt_data(self, conn: TwsConnection, fields: list[str]) -> None:
        conn.market_data.pop(int(fields[2]), None)

    def _tick(self, symbol: str, ticks: list[list[Field]]) -> None:
        """Send tick messages (built with reqId 0) to every subscription of the symbol."""
        if self.faults.mute_market_data:
            return
        for conn in self.live:
            for req_id, subscribed in conn.market_data.items():
                if subscribed == symbol:
                    for tick in ticks:
                        conn.send([tick[0], tick[1], req_id, *tick[3:]])


def _ignore(_conn: TwsConnection, _fields: list[str]) -> None:
    """Requests the fake accepts and has nothing to answer to."""
