"""What the simulated venue saw and did, as a read-only snapshot for tests and backtest reports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.domain.execution import Fill
from app.domain.order import Order


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejection:
    """A request the venue refused synchronously (it raised OrderRejected)."""

    client_order_id: str
    action: str
    reason: str
    ts_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueLedger:
    """Copies of every order received (by client id, in arrival order), every execution, every
    refusal, and how many market data events were ignored as unusable."""

    orders: Mapping[str, Order]
    executions: tuple[Fill, ...]
    rejections: tuple[Rejection, ...]
    ignored_market_data: int
