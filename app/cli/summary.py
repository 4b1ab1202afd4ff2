"""What a run did, for the live panel and the final JSON summary."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from app.bootstrap import Runtime
from app.domain.money import ZERO, to_cents
from app.ports.ledger import LedgerCounts


class OpenPosition(msgspec.Struct, frozen=True):
    strategy: str
    symbol: str
    qty: Decimal
    avg_cost: Decimal


class RunSummary(msgspec.Struct, frozen=True):
    ticks: int
    ticks_quarantined: int
    bars: int
    signals: int
    orders: int
    fills: int
    trades: int
    open_positions: list[OpenPosition]
    realized_pnl: Decimal
    unrealized_pnl: Decimal


async def summarize(runtime: Runtime) -> RunSummary:
    router, consumer = runtime.router, runtime.consumer
    marks: dict[str, float] = {}
    for shard in runtime.shards:
        marks.update(shard.engine.last_price)
    counts = (
        await runtime.ledger.counts() if runtime.ledger is not None else LedgerCounts(0, 0, 0, 0)
    )
    portfolio = consumer.engine.portfolio if consumer else None
    return RunSummary(
        ticks=router.ticks_in if router else 0,
        ticks_quarantined=sum(router.quarantined.values()) if router else 0,
        bars=sum(shard.engine.bars for shard in runtime.shards),
        signals=counts.signals,
        orders=counts.orders,
        fills=counts.fills,
        trades=counts.trades,
        open_positions=[
            OpenPosition(p.strategy, p.symbol, p.qty, p.avg_cost)
            for p in (portfolio.positions.values() if portfolio else [])
            if p.qty != ZERO
        ],
        realized_pnl=to_cents(portfolio.realized()) if portfolio else ZERO,
        unrealized_pnl=portfolio.unrealized(marks) if portfolio else ZERO,
    )
