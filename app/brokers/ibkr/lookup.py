"""Finding an order by client order id in what ib_async holds: trades and executions.

The client order id travels as IB's orderRef, so it survives restarts: after a reconnect the
open orders, completed orders and executions ib_async synchronises all carry it. A replace
modifies the IB order in place and moves its orderRef to the new id; executions keep the ref
they were booked under, which is how the fills are split between the old id and the new.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import msgspec
from ib_async import Fill, Trade

from app.brokers.ibkr.errors import is_rejection
from app.brokers.ibkr.orders import (
    WAITING_FOR_VENUE,
    WORKING,
    side_of_action,
    side_of_execution,
    status_of,
)
from app.brokers.ibkr.values import decimal_from, is_set, ns_from, price_from
from app.domain.money import ZERO, to_avg_price
from app.domain.order import OrderStatus
from app.ports.broker import BrokerOrder


def rejected(trade: Trade) -> bool:
    """Whether IB refused the order: a rejection error not followed by the order working
    (IB refusing a modify leaves the order working, and a resync shows it so)."""
    refused = False
    for entry in trade.log:
        if is_rejection(entry.errorCode):
            refused = True
        elif entry.status in WORKING:
            refused = False
    return refused


def reason(trade: Trade) -> str:
    """The last error or message IB attached to the order, for the record."""
    for entry in reversed(trade.log):
        if entry.errorCode or entry.message:
            return entry.message
    return ""


def answered(trade: Trade) -> bool:
    """Whether the venue has said anything about the order (an ack, a fill or a refusal)."""
    return (
        trade.orderStatus.status not in WAITING_FOR_VENUE
        or bool(trade.order.permId)
        or bool(trade.fills)
    )


def find_order(
    client_order_id: str, trades: Iterable[Trade], fills: list[Fill]
) -> BrokerOrder | None:
    """The venue's view of the order, or None when the venue has not acknowledged it."""
    mine = [f for f in fills if f.execution.orderRef == client_order_id]
    known = [t for t in trades if t.order.orderRef == client_order_id and answered(t)]
    if known:
        return _from_trade(client_order_id, known[-1], mine, fills)
    if mine:
        return _from_fills(client_order_id, mine, trades)
    return None


def listed_orders(trades: list[Trade], fills: list[Fill], *, since_ns: int) -> list[BrokerOrder]:
    """Every order by client order id, dated by the first thing seen of it (its first log
    entry or execution), oldest first. An order with neither (IB listed it, nothing happened
    to it yet) is undated and always listed; orders without a client order id are not ours."""
    first_seen: dict[str, int] = {}
    for trade in trades:
        if trade.order.orderRef:
            dated = ns_from(trade.log[0].time) if trade.log else 0
            _earliest(first_seen, trade.order.orderRef, dated)
    for fill in fills:
        if fill.execution.orderRef:
            _earliest(first_seen, fill.execution.orderRef, ns_from(fill.execution.time))
    listed: list[BrokerOrder] = []
    for coid, created_ns in sorted(first_seen.items(), key=lambda item: (item[1], item[0])):
        found = find_order(coid, trades, fills)
        if found is not None and (created_ns == 0 or created_ns >= since_ns):
            listed.append(msgspec.structs.replace(found, created_ns=created_ns))
    return listed


def _earliest(seen: dict[str, int], coid: str, ns: int) -> None:
    """Keep the earliest non-zero time (0 means undated)."""
    known = seen.get(coid, 0)
    seen[coid] = min(known, ns) if known and ns else known or ns


def _shares(fills: Iterable[Fill]) -> Decimal:
    return sum((decimal_from(f.execution.shares) for f in fills), ZERO)


def _avg_price(fills: list[Fill]) -> Decimal | None:
    qty = _shares(fills)
    if qty == ZERO:
        return None
    notional = sum(
        (decimal_from(f.execution.shares) * price_from(f.execution.price) for f in fills), ZERO
    )
    return to_avg_price(notional / qty)


def _from_trade(coid: str, trade: Trade, mine: list[Fill], fills: list[Fill]) -> BrokerOrder:
    perm_id = trade.order.permId
    moved = [
        f
        for f in fills
        if perm_id and f.execution.permId == perm_id and f.execution.orderRef != coid
    ]
    moved_qty = _shares(moved)
    venue_filled = max(
        decimal_from(trade.orderStatus.filled),
        decimal_from(trade.order.filledQuantity) if is_set(trade.order.filledQuantity) else ZERO,
        _shares(mine) + moved_qty,
    )
    filled = venue_filled - moved_qty
    avg = _avg_price(mine)
    if avg is None and filled > ZERO and not moved and trade.orderStatus.avgFillPrice > 0:
        avg = to_avg_price(price_from(trade.orderStatus.avgFillPrice))
    return BrokerOrder(
        client_order_id=coid,
        broker_order_id=str(perm_id) if perm_id else "",
        symbol=trade.contract.symbol,
        side=side_of_action(trade.order.action),
        qty=decimal_from(trade.order.totalQuantity) - moved_qty,
        filled_qty=filled,
        status=status_of(trade.orderStatus.status, filled=filled, rejected=rejected(trade)),
        avg_fill_price=avg,
    )


def _from_fills(coid: str, mine: list[Fill], trades: Iterable[Trade]) -> BrokerOrder:
    """Executions under a reference no order carries any more: the order was replaced in
    place (its orderRef moved on), or the venue no longer lists it and only its fills remain."""
    first = mine[0].execution
    moved_on = any(t.order.permId == first.permId for t in trades)
    filled = _shares(mine)
    return BrokerOrder(
        client_order_id=coid,
        broker_order_id=str(first.permId) if first.permId else "",
        symbol=mine[0].contract.symbol,
        side=side_of_execution(first.side),
        qty=filled,
        filled_qty=filled,
        status=OrderStatus.REPLACED if moved_on else OrderStatus.FILLED,
        avg_fill_price=_avg_price(mine),
    )
