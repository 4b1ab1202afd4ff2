"""The first risk rules: total exposure and open-position caps."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.domain.money import ZERO, whole_shares
from app.risk.intent import OrderIntent, Outcome, RiskView, Verdict


@dataclass(frozen=True, slots=True)
class MaxExposureRule:
    """Committed exposure (positions at cost + working entries) never exceeds the limit:
    the order is cut to what fits, or refused when not one share fits."""

    limit: Decimal
    name: str = "max_exposure"

    def check(self, intent: OrderIntent, view: RiskView) -> Verdict:
        room = self.limit - view.committed_exposure()
        if intent.notional <= room:
            return Verdict(Outcome.APPROVE, f"notional {intent.notional} within room {room}")
        fits = whole_shares(room / intent.ref_price) if room > ZERO else ZERO
        if fits < 1:
            return Verdict(Outcome.REJECT, f"exposure limit {self.limit} reached (room {room})")
        return Verdict(Outcome.MODIFY, f"cut to {fits} shares to stay within {self.limit}", fits)


@dataclass(frozen=True, slots=True)
class MaxOpenPositionsRule:
    limit: int
    name: str = "max_open_positions"

    def check(self, intent: OrderIntent, view: RiskView) -> Verdict:
        count = view.open_position_count()
        if count >= self.limit:
            return Verdict(Outcome.REJECT, f"{count} open positions, limit {self.limit}")
        return Verdict(Outcome.APPROVE, f"{count} of {self.limit} positions open")
