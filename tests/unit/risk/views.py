"""A hand-written RiskView for rule tests: every number is set by the test."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.signal import Side
from app.ports.risk_state import Halt, StrategyState
from app.risk.intent import OrderIntent
from tests.builders import OPEN_NS


@dataclass
class View:
    now: int = OPEN_NS
    equity_: Decimal = Decimal("100000")
    exposure: Decimal = Decimal(0)
    by_symbol: dict[str, Decimal] = field(default_factory=dict)
    by_strategy: dict[str, Decimal] = field(default_factory=dict)
    positions: int = 0
    power: Decimal | None = Decimal("400000")
    halt: Halt | None = None
    state: StrategyState | None = None
    today: Decimal = Decimal(0)
    day_trades_: int = 0

    def now_ns(self) -> int:
        return self.now

    def equity(self) -> Decimal:
        return self.equity_

    def committed_exposure(self) -> Decimal:
        return self.exposure

    def symbol_exposure(self, symbol: str) -> Decimal:
        return self.by_symbol.get(symbol, Decimal(0))

    def strategy_exposure(self, strategy: str) -> Decimal:
        return self.by_strategy.get(strategy, Decimal(0))

    def open_position_count(self) -> int:
        return self.positions

    def buying_power(self) -> Decimal | None:
        return self.power

    def halt_for(self, strategy: str) -> Halt | None:
        return self.halt

    def strategy_state(self, strategy: str) -> StrategyState:
        return self.state or StrategyState(strategy)

    def realized_today(self, strategy: str | None = None) -> Decimal:
        return self.today

    def day_trades(self) -> int:
        return self.day_trades_


def intent(
    qty: str = "100", price: str = "10", stop: str = "9.5", ts: int = OPEN_NS
) -> OrderIntent:
    return OrderIntent(
        strategy="s",
        symbol="ABC",
        side=Side.BUY,
        qty=Decimal(qty),
        ref_price=Decimal(price),
        stop_price=Decimal(stop),
        price_ts_ns=ts,
    )
