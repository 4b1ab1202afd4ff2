"""What risk looks at: a proposed order and a read-only view of the book."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from app.domain.signal import Side


@dataclass(frozen=True, slots=True)
class OrderIntent:
    strategy: str
    symbol: str
    side: Side
    qty: Decimal
    ref_price: Decimal

    @property
    def notional(self) -> Decimal:
        return self.qty * self.ref_price


class RiskView(Protocol):
    def equity(self) -> Decimal: ...

    def committed_exposure(self) -> Decimal:
        """Open positions at cost plus the notional reserved by working entry orders."""
        ...

    def open_position_count(self) -> int: ...


class Outcome(enum.StrEnum):
    APPROVE = "approve"
    MODIFY = "modify"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    reason: str
    qty: Decimal | None = None


class RiskRule(Protocol):
    @property
    def name(self) -> str: ...

    def check(self, intent: OrderIntent, view: RiskView) -> Verdict: ...
