"""The venue's own copy of an order, where it is in the venue's life, and what it reports."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from app.domain.execution import ExecutionReport, Fill, ReportKind
from app.domain.money import ZERO
from app.domain.order import Order, OrderStatus
from app.ports.broker import BrokerOrder


@dataclass(slots=True)
class WorkingOrder:
    """live_ns: when it reaches (or reached) the book. resting: it has seen a print while live.
    triggered: a stop order's price has traded; it now fills as a market order."""

    order: Order
    live_ns: int
    ack_pending: bool = False
    resting: bool = False
    cancel_pending: bool = False
    replace_pending: bool = False
    triggered: bool = False

    def report(
        self,
        kind: ReportKind,
        *,
        ts_ns: int,
        reason: str = "",
        execution: Fill | None = None,
    ) -> ExecutionReport:
        order = self.order
        return ExecutionReport(
            kind=kind,
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            ts_ns=ts_ns,
            broker_order_id=order.broker_order_id or "",
            execution_id=None if execution is None else execution.execution_id,
            last_qty=None if execution is None else execution.qty,
            last_price=None if execution is None else execution.price,
            fee=ZERO if execution is None else execution.fee,
            reason=reason,
        )

    def broker_order(self) -> BrokerOrder:
        return broker_order_of(self.order)


def broker_order_of(order: Order) -> BrokerOrder:
    """The venue's copy of an order as the Broker port shows it."""
    return BrokerOrder(
        client_order_id=order.client_order_id,
        broker_order_id=order.broker_order_id or "",
        symbol=order.symbol,
        side=order.side,
        qty=order.qty,
        filled_qty=order.filled_qty,
        status=order.status,
        avg_fill_price=order.avg_fill_price,
        created_ns=order.created_ns,
    )


def venue_copy(order: Order, *, received_ns: int) -> Order:
    """The venue's own copy of an order it received: SUBMITTED, nothing filled, no venue id yet."""
    return dataclasses.replace(
        order,
        status=OrderStatus.SUBMITTED,
        filled_qty=ZERO,
        avg_fill_price=None,
        broker_order_id=None,
        reason="",
        updated_ns=received_ns,
    )
