"""What a backtest's executor and venue are made of, handed in by the composition root.

The risk chain, sizing, limits and arbitration are composed as the monolith composes them
(app.bootstrap.execution, from the settings); this package may not read the settings, so the
CLI (or a benchmark, or a test) builds these and passes them down. Each run gets fresh engines
from them: nothing here holds state. Every strategy of a run is enabled, at its own priority
and detection filter, as app.bootstrap.strategies makes the policies of enabled ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from app.arbitration import Arbiter, ArbiterConfig, StrategyPolicy
from app.brokers.sim.fill_model import FillModel
from app.brokers.sim.venue_config import VenueConfig
from app.domain.money import ONE_DOLLAR
from app.engine.execution import ExecutionEngine
from app.engine.portfolio import Portfolio
from app.risk.book import RiskBook, RiskLimits
from app.risk.chain import RiskChain
from app.risk.sizing import FixedFractionalSizer, SizingConfig
from app.strategies.base import Strategy


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionSetup:
    starting_cash: Decimal
    risk: RiskChain
    sizing: SizingConfig
    limits: RiskLimits
    order_ttl_ns: int
    entry_collar_bps: Decimal
    arbitration: ArbiterConfig = field(default_factory=ArbiterConfig)

    def engine(self, strategies: Sequence[Strategy]) -> ExecutionEngine:
        """A fresh executor with an empty book, arbitrating between these strategies."""
        policies = {
            s.name: StrategyPolicy(
                priority=s.priority, accepts=s.accepts, bracket=s.exit.bracket_spec()
            )
            for s in strategies
        }
        return ExecutionEngine(
            portfolio=Portfolio(starting_cash=self.starting_cash),
            sizer=FixedFractionalSizer(self.sizing),
            risk=self.risk,
            risk_book=RiskBook(self.limits),
            order_ttl_ns=self.order_ttl_ns,
            entry_collar_bps=self.entry_collar_bps,
            arbiter=Arbiter(self.arbitration, policies),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueSetup:
    latency_ns: int = 0
    fill_model: FillModel = field(default_factory=FillModel)
    buying_power_multiplier: Decimal = ONE_DOLLAR

    def config(self, *, starting_cash: Decimal) -> VenueConfig:
        return VenueConfig(
            starting_cash=starting_cash,
            latency_ns=self.latency_ns,
            buying_power_multiplier=self.buying_power_multiplier,
            fill_model=self.fill_model,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CoreSetup:
    execution: ExecutionSetup
    venue: VenueSetup
