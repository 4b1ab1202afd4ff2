"""The RiskView the executor decides with: the book, working orders, the account, risk state."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from app.domain.money import ZERO
from app.domain.order import Order
from app.engine.portfolio import Portfolio
from app.ports.broker import BrokerAccount
from app.ports.risk_state import Halt, StrategyState
from app.risk.book import RiskBook


class BookView:
    """Exposure counts open lots at cost plus working entries at their reservation price."""

    def __init__(
        self,
        *,
        portfolio: Portfolio,
        risk: RiskBook,
        working: Callable[[], Iterable[Order]],
        reserved: Mapping[str, Decimal],
    ) -> None:
        self._portfolio = portfolio
        self._risk = risk
        self._working = working
        self._reserved = reserved
        self._now_ns = 0
        self._account: BrokerAccount | None = None
        self._account_ns = 0

    def at(self, now_ns: int) -> BookView:
        self._now_ns = now_ns
        return self

    def set_account(self, account: BrokerAccount, *, now_ns: int) -> None:
        self._account, self._account_ns = account, now_ns

    def now_ns(self) -> int:
        return self._now_ns

    def equity(self) -> Decimal:
        return self._portfolio.equity_at_cost()

    def _entries(self) -> list[Order]:
        return [o for o in self._working() if o.is_open and o.is_entry]

    def _working_notional(self, orders: Iterable[Order]) -> Decimal:
        return sum(
            (self._reserved.get(o.client_order_id, ZERO) * o.remaining for o in orders), ZERO
        )

    def committed_exposure(self) -> Decimal:
        return self._portfolio.exposure() + self._working_notional(self._entries())

    def symbol_exposure(self, symbol: str) -> Decimal:
        held = sum(
            (
                lot.qty_open * lot.avg_price
                for lot in self._portfolio.lots.values()
                if lot.symbol == symbol
            ),
            ZERO,
        )
        return held + self._working_notional(o for o in self._entries() if o.symbol == symbol)

    def strategy_exposure(self, strategy: str) -> Decimal:
        held = sum(
            (
                lot.qty_open * lot.avg_price
                for lot in self._portfolio.lots.values()
                if lot.strategy == strategy
            ),
            ZERO,
        )
        return held + self._working_notional(o for o in self._entries() if o.strategy == strategy)

    def open_position_count(self) -> int:
        pending = {(o.strategy, o.symbol) for o in self._entries()}
        held = {k for k, p in self._portfolio.positions.items() if p.qty != ZERO}
        return len(pending | held)

    def buying_power(self) -> Decimal | None:
        if self._account is None:
            return None
        since = [o for o in self._entries() if o.created_ns >= self._account_ns]
        return self._account.buying_power - self._working_notional(since)

    def halt_for(self, strategy: str) -> Halt | None:
        return self._risk.halt_for(strategy)

    def strategy_state(self, strategy: str) -> StrategyState:
        return self._risk.strategy_state(strategy)

    def realized_today(self, strategy: str | None = None) -> Decimal:
        return self._risk.realized_today(strategy)

    def day_trades(self) -> int:
        return self._risk.day_trades()
