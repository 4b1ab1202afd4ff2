"""The frozen config of a simulated venue."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from app.brokers.sim.fill_model import FillModel
from app.domain.money import ONE_DOLLAR, ZERO


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueConfig:
    """How the simulated venue behaves (see app.brokers.sim.venue for the model).

    latency_ns: how long every request (new, cancel, replace) takes to reach the matching engine.
    buying_power_multiplier: 1 for a cash account, 4 for intraday margin.
    reject_insufficient_buying_power: refuse orders that would take buying power below zero.
    fill_before_ack, duplicate_fill_reports: fault knobs for chaos tests; they change the order
    and number of reports, never the books.
    retain_ns: how long, in venue time, orders that have ended (with every order of their
    bracket), executions and refusals are kept for lookups and the ledger; checked once a
    minute. None keeps everything (a backtest's whole record); a long-running paper venue sets
    it, or its memory and every reconciliation's scan grow with each order of the session.
    """

    starting_cash: Decimal
    latency_ns: int = 0
    buying_power_multiplier: Decimal = ONE_DOLLAR
    reject_insufficient_buying_power: bool = True
    fill_model: FillModel = field(default_factory=FillModel)
    fill_before_ack: bool = False
    duplicate_fill_reports: bool = False
    retain_ns: int | None = None

    def __post_init__(self) -> None:
        if not self.starting_cash.is_finite():
            raise ValueError(f"starting_cash must be finite, got {self.starting_cash}")
        if self.retain_ns is not None and self.retain_ns <= self.latency_ns:
            raise ValueError(f"retain_ns must exceed the latency, got {self.retain_ns}")
        if self.latency_ns < 0:
            raise ValueError(f"latency_ns must not be negative, got {self.latency_ns}")
        if not self.buying_power_multiplier > ZERO:
            raise ValueError(
                f"buying_power_multiplier must be positive, got {self.buying_power_multiplier}"
            )
