"""What risk looks at: a proposed entry and a read-only view of the book and the risk state."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from app.domain.signal import Side
from app.ports.risk_state import Halt, StrategyState


@dataclass(frozen=True, slots=True)
class OrderIntent:
    strategy: str
    symbol: str
    side: Side
    qty: Decimal
    ref_price: Decimal
    stop_price: Decimal
    price_ts_ns: int

    @property
    def notional(self) -> Decimal:
        return self.qty * self.ref_price

    @property
    def risk_per_share(self) -> Decimal:
        return abs(self.ref_price - self.stop_price)


class RiskView(Protocol):
    def now_ns(self) -> int: ...

    def equity(self) -> Decimal: ...

    def committed_exposure(self) -> Decimal:
        """Open positions at cost plus the notional reserved by working entry orders."""
        ...

    def symbol_exposure(self, symbol: str) -> Decimal: ...

    def strategy_exposure(self, strategy: str) -> Decimal: ...

    def open_position_count(self) -> int: ...

    def buying_power(self) -> Decimal | None:
        """The broker's last reported buying power less what working orders reserve since."""
        ...

    def halt_for(self, strategy: str) -> Halt | None:
        """The global halt or this strategy's, if any."""
        ...

    def strategy_state(self, strategy: str) -> StrategyState: ...

    def realized_today(self, strategy: str | None = None) -> Decimal:
        """Today's realized P&L of one strategy, or of all when None."""
        ...

    def day_trades(self) -> int:
        """Day trades in the last five trading days (for the optional PDT counter)."""
        ...


class Outcome(enum.StrEnum):
    APPROVE = "approve"
    MODIFY = "modify"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    reason: str
    qty: Decimal | None = None


def approve(reason: str) -> Verdict:
    return Verdict(Outcome.APPROVE, reason)


def reject(reason: str) -> Verdict:
    return Verdict(Outcome.REJECT, reason)


class RiskRule(Protocol):
    @property
    def name(self) -> str: ...

    def check(self, intent: OrderIntent, view: RiskView) -> Verdict: ...
