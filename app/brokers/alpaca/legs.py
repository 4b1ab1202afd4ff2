"""Bracket legs at Alpaca, under the ids the ledger gave them.

A bracket request cannot name its legs: Alpaca generates their client_order_ids and nests the
legs under their entry when asked to (`nested`). The ledger knows them as
leg_id(entry, kind) (app.domain.bracket), and which leg is which follows from its type within
the entry's legs: the limit is the take-profit, the stop (or stop-limit) the stop-loss.
"""

from __future__ import annotations

from alpaca.trading.enums import OrderClass, OrderType
from alpaca.trading.enums import OrderStatus as AlpacaStatus
from alpaca.trading.models import Order as AlpacaOrder
from msgspec.structs import replace

from app.brokers.alpaca.mapping import broker_order
from app.domain.bracket import LegKind, leg_id, leg_kind
from app.domain.order import OrderStatus
from app.ports.broker import BrokerOrder

_KIND_OF_TYPE = {
    OrderType.LIMIT: LegKind.TAKE_PROFIT,
    OrderType.STOP: LegKind.STOP_LOSS,
    OrderType.STOP_LIMIT: LegKind.STOP_LOSS,
}


def entry_of(client_order_id: str) -> str | None:
    """The entry whose leg `client_order_id` names; None when it names no leg."""
    kind = leg_kind(client_order_id)
    return None if kind is None else client_order_id.removesuffix(f"-{kind.value}")


def venue_orders(order: AlpacaOrder) -> list[BrokerOrder]:
    """`order` as the port sees it, followed by the bracket legs Alpaca nested under it, each
    under our leg id. A leg Alpaca holds while its entry has not filled completely is not
    working yet: SUBMITTED, as the simulated venue has it. Held after that, it is the
    stop-loss waiting for its price, which is working (ACCEPTED)."""
    entry = broker_order(order)
    if order.order_class != OrderClass.BRACKET:
        return [entry]
    found = [entry]
    for leg in order.legs or ():
        order_type = leg.type or leg.order_type
        kind = None if order_type is None else _KIND_OF_TYPE.get(order_type)
        if kind is None:
            continue
        seen = broker_order(leg)
        status = seen.status
        if leg.status == AlpacaStatus.HELD and entry.status is not OrderStatus.FILLED:
            status = OrderStatus.SUBMITTED
        ours = leg_id(order.client_order_id, kind)
        found.append(replace(seen, client_order_id=ours, status=status))
    return found
