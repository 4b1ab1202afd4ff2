"""Where orders go. The broker is the source of truth; a timed-out submit is unknown, not failed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Protocol

import msgspec

from app.domain.execution import ExecutionReport
from app.domain.order import Order, OrderStatus
from app.domain.signal import Side


class BrokerOrder(msgspec.Struct, frozen=True):
    """An order as the venue knows it. `filled_qty` is the venue's cumulative quantity and
    `avg_fill_price` its average price over it; `created_ns` is when the venue took the order
    (0 when the venue does not say)."""

    client_order_id: str
    broker_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    filled_qty: Decimal
    status: OrderStatus
    avg_fill_price: Decimal | None = None
    created_ns: int = 0


class BrokerPosition(msgspec.Struct, frozen=True):
    symbol: str
    qty: Decimal
    avg_price: Decimal


class BrokerAccount(msgspec.Struct, frozen=True):
    cash: Decimal
    equity: Decimal
    buying_power: Decimal


class BrokerError(Exception):
    """Base of every broker failure; venue adapters classify into the three below."""


class TransientBrokerError(BrokerError):
    """Retry with backoff and jitter."""


class OrderRejected(BrokerError):
    """The venue said no: record it, never retry."""


class BrokerUnavailable(BrokerError):
    """The venue cannot be reached: trip the breaker."""


class Broker(Protocol):
    async def submit(self, order: Order) -> None:
        """Send a new order; raises OrderRejected, or TransientBrokerError when the outcome
        is unknown."""
        ...

    async def cancel(self, client_order_id: str) -> None: ...

    async def replace(
        self,
        client_order_id: str,
        *,
        new_client_order_id: str,
        qty: Decimal | None = None,
        limit_price: Decimal | None = None,
    ) -> None: ...

    async def order_by_client_id(self, client_order_id: str) -> BrokerOrder | None: ...

    async def orders(self, *, since_ns: int) -> list[BrokerOrder]:
        """Every order the venue knows that was created at or after `since_ns`, open or closed:
        reconciliation looks for orders the ledger does not know."""
        ...

    async def fills(self, *, since_ns: int) -> list[ExecutionReport]:
        """The venue's executions at or after `since_ns`, as FILL reports with their execution
        ids, so reconciliation books a missed fill under its real id. A venue that cannot list
        executions returns []; reconciliation then books the missing quantity under an id
        derived from the order and its cumulative quantity."""
        ...

    async def positions(self) -> list[BrokerPosition]: ...

    async def account(self) -> BrokerAccount: ...

    def reports(self) -> AsyncIterator[ExecutionReport]:
        """Execution reports in the order the venue emits them (fills may precede acks)."""
        ...
