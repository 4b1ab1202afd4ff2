"""Fixed-fractional sizing: risk a fixed share of equity on the distance to the stop."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.domain.money import ZERO, whole_shares


@dataclass(frozen=True, slots=True)
class SizingConfig:
    risk_per_trade_pct: Decimal
    max_position_value: Decimal

    def __post_init__(self) -> None:
        if not ZERO < self.risk_per_trade_pct <= Decimal("100"):
            raise ValueError(
                f"risk_per_trade_pct must be in (0, 100], got {self.risk_per_trade_pct}"
            )
        if self.max_position_value <= ZERO:
            raise ValueError("max_position_value must be positive")


class FixedFractionalSizer:
    def __init__(self, config: SizingConfig) -> None:
        self._config = config

    def size(self, *, equity: Decimal, entry: Decimal, stop: Decimal) -> Decimal:
        """Whole shares so that hitting the stop loses at most risk% of equity, capped by value."""
        per_share_risk = abs(entry - stop)
        if per_share_risk <= ZERO or entry <= ZERO or equity <= ZERO:
            return ZERO
        by_risk = equity * self._config.risk_per_trade_pct / Decimal(100) / per_share_risk
        by_value = self._config.max_position_value / entry
        return whole_shares(min(by_risk, by_value))
