"""The messages the fake TWS sends, as field lists (framing is wire.frame's job)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tests.fakes.tws import layouts
from tests.fakes.tws.ledger import FakeExecution, FakeOrder
from tests.fakes.tws.wire import Field

# incoming message ids (client -> TWS)
REQ_MKT_DATA = 1
CANCEL_MKT_DATA = 2
PLACE_ORDER = 3
CANCEL_ORDER = 4
REQ_OPEN_ORDERS = 5
REQ_ACCOUNT_UPDATES = 6
REQ_EXECUTIONS = 7
REQ_IDS = 8
REQ_CONTRACT_DETAILS = 9
REQ_AUTO_OPEN_ORDERS = 15
REQ_ALL_OPEN_ORDERS = 16
REQ_MANAGED_ACCOUNTS = 17
REQ_CURRENT_TIME = 49
REQ_MARKET_DATA_TYPE = 59
REQ_POSITIONS = 61
REQ_ACCOUNT_SUMMARY = 62
CANCEL_ACCOUNT_SUMMARY = 63
CANCEL_POSITIONS = 64
START_API = 71
REQ_ACCOUNT_UPDATES_MULTI = 76
CANCEL_ACCOUNT_UPDATES_MULTI = 77
REQ_COMPLETED_ORDERS = 99

# IB tick types (tickPrice carries the size with the price)
BID, ASK, LAST = 1, 2, 4

NO_REQUEST = -1


def ib_time(ts_ns: int) -> str:
    """TWS's "yyyymmdd hh:mm:ss zone" form, which the client parses with its zone."""
    moment = datetime.fromtimestamp(ts_ns / 1e9, tz=UTC)
    return moment.strftime("%Y%m%d %H:%M:%S") + " UTC"


def _contract(symbol: str, con_id: int) -> dict[str, Field]:
    return {
        "conId": con_id,
        "symbol": symbol,
        "secType": "STK",
        "exchange": "SMART",
        "currency": "USD",
        "localSymbol": symbol,
        "tradingClass": "NMS",
    }


def handshake_reply(connected_ns: int) -> list[Field]:
    return [layouts.SERVER_VERSION, ib_time(connected_ns)]


def next_valid_id(order_id: int) -> list[Field]:
    return [9, 1, order_id]


def managed_accounts(account: str) -> list[Field]:
    return [15, 1, account]


def error(req_id: int, code: int, text: str) -> list[Field]:
    return [4, 2, req_id, code, text]


def current_time(ts_ns: int) -> list[Field]:
    return [49, 1, ts_ns // 1_000_000_000]


def open_order(order: FakeOrder, con_id: int) -> list[Field]:
    values: dict[str, Field] = {
        **_contract(order.symbol, con_id),
        "orderId": order.order_id,
        "action": order.action,
        "totalQuantity": order.qty,
        "orderType": order.order_type,
        "lmtPrice": order.lmt,
        "auxPrice": order.aux,
        "tif": order.tif,
        "account": order.account,
        "openClose": "O",
        "origin": 0,
        "orderRef": order.ref,
        "clientId": order.client_id,
        "permId": order.perm_id,
        "outsideRth": False,
        "hidden": False,
        "trailStopPrice": order.trail_stop,
        "trailingPercent": order.trailing_percent,
        "whatIf": False,
        "status": order.status,
    }
    return layouts.fill(5, layouts.OPEN_ORDER, values)


def order_status(order: FakeOrder) -> list[Field]:
    return [
        3,
        order.order_id,
        order.status,
        order.filled,
        order.remaining,
        order.avg_price,
        order.perm_id,
        0,
        order.last_fill_price,
        order.client_id,
        "",
        0,
    ]


def completed_order(order: FakeOrder, con_id: int, completed_ns: int) -> list[Field]:
    values: dict[str, Field] = {
        **_contract(order.symbol, con_id),
        "action": order.action,
        "totalQuantity": order.qty,
        "orderType": order.order_type,
        "lmtPrice": order.lmt,
        "auxPrice": order.aux,
        "tif": order.tif,
        "account": order.account,
        "orderRef": order.ref,
        "permId": order.perm_id,
        "trailStopPrice": order.trail_stop,
        "trailingPercent": order.trailing_percent,
        "status": order.status,
        "filledQuantity": order.filled,
        "completedTime": ib_time(completed_ns),
        "completedStatus": order.completed_status,
    }
    return layouts.fill(101, layouts.COMPLETED_ORDER, values)


def exec_details(req_id: int, execution: FakeExecution, con_id: int, account: str) -> list[Field]:
    values: dict[str, Field] = {
        **_contract(execution.symbol, con_id),
        "reqId": req_id,
        "orderId": execution.order_id,
        "execId": execution.exec_id,
        "time": ib_time(execution.ts_ns),
        "acctNumber": account,
        "execExchange": "ISLAND",
        "side": execution.side,
        "shares": execution.shares,
        "price": execution.price,
        "permId": execution.perm_id,
        "clientId": execution.client_id,
        "liquidation": 0,
        "cumQty": execution.cum_qty,
        "avgPrice": execution.avg_price,
        "orderRef": execution.ref,
        "lastLiquidity": 1,
    }
    return layouts.fill(11, layouts.EXEC_DETAILS, values)


def commission_report(execution: FakeExecution) -> list[Field]:
    return [59, 1, execution.exec_id, execution.commission, "USD", "", "", ""]


def position(account: str, symbol: str, con_id: int, qty: Decimal, avg: Decimal) -> list[Field]:
    values: dict[str, Field] = {
        **_contract(symbol, con_id),
        "version": 3,
        "account": account,
        "position": qty,
        "avgCost": avg,
    }
    return layouts.fill(61, layouts.POSITION, values)


def portfolio(
    account: str, symbol: str, con_id: int, qty: Decimal, avg: Decimal, mark: Decimal
) -> list[Field]:
    values: dict[str, Field] = {
        "version": 8,
        "conId": con_id,
        "symbol": symbol,
        "secType": "STK",
        "primaryExchange": "NASDAQ",
        "currency": "USD",
        "localSymbol": symbol,
        "tradingClass": "NMS",
        "position": qty,
        "marketPrice": mark,
        "marketValue": qty * mark,
        "averageCost": avg,
        "unrealizedPNL": (mark - avg) * qty,
        "realizedPNL": 0,
        "accountName": account,
    }
    return layouts.fill(7, layouts.PORTFOLIO, values)


def account_value(tag: str, value: Decimal, account: str) -> list[Field]:
    return [6, 2, tag, value, "USD", account]


def account_time(ts_ns: int) -> list[Field]:
    return [8, 1, datetime.fromtimestamp(ts_ns / 1e9, tz=UTC).strftime("%H:%M")]


def account_download_end(account: str) -> list[Field]:
    return [54, 1, account]


def account_update_multi(req_id: int, account: str, tag: str, value: Decimal) -> list[Field]:
    return [73, 1, req_id, account, "", tag, value, "USD"]


def account_summary(req_id: int, account: str, tag: str, value: Decimal) -> list[Field]:
    return [63, 1, req_id, account, tag, value, "USD"]


def contract_details(req_id: int, symbol: str, con_id: int) -> list[Field]:
    values: dict[str, Field] = {
        "version": 8,
        "reqId": req_id,
        "symbol": symbol,
        "secType": "STK",
        "exchange": "SMART",
        "currency": "USD",
        "localSymbol": symbol,
        "marketName": "NMS",
        "tradingClass": "NMS",
        "conId": con_id,
        "minTick": "0.01",
        "mdSizeMultiplier": 1,
        "orderTypes": "LMT,MKT,STP,STPLMT,TRAIL",
        "validExchanges": "SMART,ISLAND",
        "priceMagnifier": 1,
        "longName": f"{symbol} INC",
        "primaryExchange": "NASDAQ",
        "timeZoneId": "US/Eastern",
        "stockType": "COMMON",
    }
    return layouts.fill(10, layouts.CONTRACT_DETAILS, values)


def tick_price(req_id: int, tick_type: int, price: Decimal, size: int) -> list[Field]:
    return [1, 6, req_id, tick_type, price, size, 0]


def end_of(message_id: int, *args: Field) -> list[Field]:
    """The End messages: openOrderEnd 53, positionEnd 62, execDetailsEnd 55 (reqId),
    contractDetailsEnd 52 (reqId), accountSummaryEnd 64 (reqId), accountUpdateMultiEnd 74
    (reqId) carry a version; completedOrdersEnd 102 carries nothing."""
    if message_id == 102:
        return [102]
    return [message_id, 1, *args]
