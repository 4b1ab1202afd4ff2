"""Which Alpaca order id goes with which client_order_id, as far as the adapter has read.

Bracket legs are kept under the ids the ledger gave them (app.brokers.alpaca.legs), so a leg's
trade updates translate by its Alpaca order id, and a cancel of a leg finds the order to
cancel. Which orders belong to a bracket is kept too: Alpaca's legs follow their entry's
quantity, so neither an entry nor a leg is ever replaced.
"""

from __future__ import annotations

from alpaca.trading.enums import OrderClass
from alpaca.trading.models import Order as AlpacaOrder

from app.brokers.alpaca.legs import venue_orders
from app.ports.broker import BrokerOrder


class OrderIds:
    def __init__(self) -> None:
        self._order_ids: dict[str, str] = {}
        self._client_ids: dict[str, str] = {}
        self._in_bracket: set[str] = set()

    def remember(self, client_order_id: str, order_id: str, *, bracket: bool = False) -> None:
        self._order_ids[client_order_id] = order_id
        self._client_ids[order_id] = client_order_id
        if bracket:
            self._in_bracket.add(client_order_id)

    def learn(self, order: AlpacaOrder) -> list[BrokerOrder]:
        """`order` and the legs nested under it (venue_orders), every one remembered."""
        found = venue_orders(order)
        bracket = order.order_class == OrderClass.BRACKET
        for seen in found:
            self.remember(seen.client_order_id, seen.broker_order_id, bracket=bracket)
        return found

    def order_id(self, client_order_id: str) -> str | None:
        return self._order_ids.get(client_order_id)

    def client_id(self, order_id: str) -> str | None:
        return self._client_ids.get(order_id)

    def in_bracket(self, client_order_id: str) -> bool:
        return client_order_id in self._in_bracket
