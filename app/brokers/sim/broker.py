"""SimBroker: the Broker port over a SimVenue, for paper trading and async tests.

Every call reads the time from the injected Clock, lets the venue catch up to it, and
publishes whatever reports the venue emitted to one asyncio.Queue; reports() reads that queue.
Reports wait in the queue until read, so there is meant to be one consumer of reports().
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from decimal import Decimal

from app.brokers.sim.venue import SimVenue
from app.brokers.sim.working_order import broker_order_of
from app.domain.execution import ExecutionReport, ReportKind
from app.domain.market import TickBatch
from app.domain.order import Order
from app.ports.broker import BrokerAccount, BrokerOrder, BrokerPosition
from app.ports.clock import Clock


class SimBroker:
    """Async adapter: the venue is pure and synchronous, this only moves time and reports."""

    def __init__(self, venue: SimVenue, clock: Clock) -> None:
        self._venue = venue
        self._clock = clock
        self._queue: asyncio.Queue[ExecutionReport] = asyncio.Queue()
        self._delivering = False

    @property
    def venue(self) -> SimVenue:
        return self._venue

    async def submit(self, order: Order) -> None:
        """Raises OrderRejected when the venue refuses the order."""
        try:
            self._venue.submit(order, now_ns=self._clock.now_ns())
        finally:
            self._publish()

    async def cancel(self, client_order_id: str) -> None:
        try:
            self._venue.cancel(client_order_id, now_ns=self._clock.now_ns())
        finally:
            self._publish()

    async def replace(
        self,
        client_order_id: str,
        *,
        new_client_order_id: str,
        qty: Decimal | None = None,
        limit_price: Decimal | None = None,
    ) -> None:
        try:
            self._venue.replace(
                client_order_id,
                new_client_order_id=new_client_order_id,
                qty=qty,
                limit_price=limit_price,
                now_ns=self._clock.now_ns(),
            )
        finally:
            self._publish()

    async def order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        return self._venue.order(client_order_id)

    async def orders(self, *, since_ns: int) -> list[BrokerOrder]:
        """Every order the venue received created at or after since_ns, in arrival order."""
        return [
            broker_order_of(order)
            for order in self._venue.ledger.orders.values()
            if order.created_ns >= since_ns
        ]

    async def fills(self, *, since_ns: int) -> list[ExecutionReport]:
        """The venue's executions at or after since_ns, in the order they happened."""
        orders = self._venue.ledger.orders
        return [
            ExecutionReport(
                kind=ReportKind.FILL,
                client_order_id=execution.client_order_id,
                symbol=execution.symbol,
                side=execution.side,
                ts_ns=execution.ts_ns,
                broker_order_id=orders[execution.client_order_id].broker_order_id or "",
                execution_id=execution.execution_id,
                last_qty=execution.qty,
                last_price=execution.price,
                fee=execution.fee,
            )
            for execution in self._venue.ledger.executions
            if execution.ts_ns >= since_ns
        ]

    async def positions(self) -> list[BrokerPosition]:
        return self._venue.positions()

    async def account(self) -> BrokerAccount:
        return self._venue.account()

    async def reports(self) -> AsyncGenerator[ExecutionReport, None]:
        """Execution reports in emission order; waits for the next one when none is queued."""
        while True:
            report = await self._queue.get()
            self._delivering = True
            yield report
            self._delivering = False

    @property
    def idle(self) -> bool:
        """No report is queued and the last one handed out has been dealt with (its reader
        asked for the next)."""
        return self._queue.empty() and not self._delivering

    async def on_batch(self, batch: TickBatch) -> None:
        """Market data from the feeder: match it, catch up to the clock, publish reports."""
        self._venue.on_batch(batch)
        self._catch_up()

    async def tick(self) -> None:
        """Let the clock's time pass at the venue: acks, cancels and replaces that are due."""
        self._catch_up()

    async def expire_day_orders(self) -> None:
        """Session close at the clock's time: open DAY orders expire."""
        self._venue.expire_day_orders(self._clock.now_ns())
        self._publish()

    async def run(self, *, interval_s: float) -> None:
        """Call tick() every interval_s until cancelled, for a feed that may go quiet."""
        while True:
            await self.tick()
            await asyncio.sleep(interval_s)

    def _catch_up(self) -> None:
        self._venue.advance(self._clock.now_ns())
        self._publish()

    def _publish(self) -> None:
        for report in self._venue.drain_reports():
            self._queue.put_nowait(report)
