"""Caps that cut an entry to what fits, or refuse it when not one share fits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.money import ZERO, whole_shares
from app.risk.intent import OrderIntent, Outcome, RiskView, Verdict, approve, reject


def _fit(intent: OrderIntent, *, room: Decimal, per_share: Decimal, what: str) -> Verdict:
    """Approve if the intent's cost fits in `room`, else cut it to whole shares that do."""
    cost = intent.qty * per_share
    if cost <= room:
        return approve(f"{what} {cost} within room {room}")
    fits = whole_shares(room / per_share) if room > ZERO and per_share > ZERO else ZERO
    if fits < 1:
        return reject(f"{what} limit reached (room {room})")
    return Verdict(Outcome.MODIFY, f"cut to {fits} shares: {what} room {room}", fits)


@dataclass(frozen=True, slots=True)
class MaxExposureRule:
    """Total committed exposure (positions at cost + working entries) stays within the limit."""

    limit: Decimal
    name: str = "max_exposure"

    def check(self, intent: OrderIntent, view: RiskView) -> Verdict:
        room = self.limit - view.committed_exposure()
        return _fit(intent, room=room, per_share=intent.ref_price, what="exposure")


@dataclass(frozen=True, slots=True)
class MaxSymbolExposureRule:
    limit: Decimal
    name: str = "max_symbol_exposure"

    def check(self, intent: OrderIntent, view: RiskView) -> Verdict:
        room = self.limit - view.symbol_exposure(intent.symbol)
        return _fit(intent, room=room, per_share=intent.ref_price, what=f"{intent.symbol} exposure")


@dataclass(frozen=True, slots=True)
class StrategyCapitalRule:
    """Each strategy's committed capital (its positions at cost + its working entries) stays
    within its own limit. The executor decides one signal at a time under the execution lease,
    so the check and the reservation it leads to are one atomic step."""

    limits: Mapping[str, Decimal] = field(default_factory=dict)
    default: Decimal | None = None
    name: str = "strategy_capital"

    def check(self, intent: OrderIntent, view: RiskView) -> Verdict:
        limit = self.limits.get(intent.strategy, self.default)
        if limit is None:
            return approve("no capital limit for this strategy")
        room = limit - view.strategy_exposure(intent.strategy)
        return _fit(intent, room=room, per_share=intent.ref_price, what="strategy capital")


@dataclass(frozen=True, slots=True)
class MaxTradeRiskRule:
    """What one trade can lose at its stop stays within a cap (dollars)."""

    limit: Decimal
    name: str = "max_trade_risk"

    def check(self, intent: OrderIntent, view: RiskView) -> Verdict:
        return _fit(intent, room=self.limit, per_share=intent.risk_per_share, what="trade risk")


@dataclass(frozen=True, slots=True)
class BuyingPowerRule:
    """The order must be payable with the broker's buying power (intraday margin by default)."""

    name: str = "buying_power"

    def check(self, intent: OrderIntent, view: RiskView) -> Verdict:
        power = view.buying_power()
        if power is None:
            return reject("buying power unknown: the broker account has not been read")
        return _fit(intent, room=power, per_share=intent.ref_price, what="buying power")


@dataclass(frozen=True, slots=True)
class MaxOpenPositionsRule:
    limit: int
    name: str = "max_open_positions"

    def check(self, intent: OrderIntent, view: RiskView) -> Verdict:
        count = view.open_position_count()
        if count >= self.limit:
            return reject(f"{count} open positions, limit {self.limit}")
        return approve(f"{count} of {self.limit} positions open")
