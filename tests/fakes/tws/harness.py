"""Test wiring for the IB adapter against the fake TWS: a running fake, a connected stack
(session, broker, feed) with its reports and gap markers collected, and order builders."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.brokers.ibkr.broker import IbkrBroker
from app.brokers.ibkr.config import IbkrConfig
from app.brokers.ibkr.feed import IbkrFeed
from app.brokers.ibkr.gaps import StreamGap
from app.brokers.ibkr.session import IbkrSession
from app.clocks.sim import SimClock
from app.domain.execution import ExecutionReport, ReportKind
from app.domain.order import Order, OrderType
from app.domain.signal import Side
from tests.builders import OPEN_NS
from tests.builders import order as base_order
from tests.fakes.tws.server import FakeTws

JITTER = 0.5
"""The injected random source always draws this: every backoff delay is half its ceiling."""


@contextlib.asynccontextmanager
async def running_tws(clock: SimClock | None = None) -> AsyncIterator[FakeTws]:
    """A fake TWS on a free port; fails the test if the fake crashed or got a request it does
    not understand."""
    fake = FakeTws(now_ns=(clock or SimClock(OPEN_NS)).now_ns)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
    assert fake.crashes == []
    assert fake.unhandled == []


def fast_config(port: int, **changes: Any) -> IbkrConfig:
    """Short timeouts and backoff so a test sees several reconnects in well under a second."""
    defaults: dict[str, Any] = {
        "port": port,
        "client_id": 7,
        "connect_timeout_s": 2.0,
        "request_timeout_s": 1.0,
        "silence_timeout_s": None,
        "backoff_base_s": 0.02,
        "backoff_cap_s": 0.1,
        "initial_attempts": 1,
    }
    return IbkrConfig(**(defaults | changes))


@dataclass
class Stack:
    session: IbkrSession
    broker: IbkrBroker
    feed: IbkrFeed
    clock: SimClock
    gaps: list[StreamGap] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)
    reports: list[ExecutionReport] = field(default_factory=list)

    def kinds(self, coid: str) -> list[ReportKind]:
        return [r.kind for r in self.reports if r.client_order_id == coid]

    def fills(self, coid: str) -> list[ExecutionReport]:
        return [r for r in self.reports if r.client_order_id == coid and r.kind is ReportKind.FILL]


@contextlib.asynccontextmanager
async def ib_stack(
    fake: FakeTws,
    *,
    symbols: Iterable[str] = (),
    clock: SimClock | None = None,
    **config: Any,
) -> AsyncIterator[Stack]:
    """A started session with a broker and a feed on it; reports are read into the stack."""
    sim_clock = clock or SimClock(OPEN_NS)
    gaps: list[StreamGap] = []
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await asyncio.sleep(seconds)

    session = IbkrSession(
        fast_config(fake.port, **config),
        clock=sim_clock,
        on_gap=gaps.append,
        random=lambda: JITTER,
        sleep=sleep,
    )
    broker = IbkrBroker(session, clock=sim_clock)
    feed = IbkrFeed(session, symbols=symbols, clock=sim_clock)
    stack = Stack(session, broker, feed, sim_clock, gaps, sleeps)

    async def read_reports() -> None:
        async for report in broker.reports():
            stack.reports.append(report)

    reader = asyncio.create_task(read_reports())
    try:
        await session.start()
        yield stack
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await feed.close()
        await session.close()


def make_order(
    coid: str,
    *,
    symbol: str = "ABC",
    side: Side = Side.BUY,
    qty: str = "100",
    limit: str | None = None,
) -> Order:
    built = base_order(coid, qty=qty, side=side, symbol=symbol)
    if limit is None:
        return built
    return dataclasses.replace(built, order_type=OrderType.LIMIT, limit_price=Decimal(limit))
