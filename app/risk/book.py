"""RiskBook: the risk state the executor decides with, changed by trades, halts and new days.

Pure and synchronous: every change it makes comes back as a `RiskChanges` for the caller to
persist (RiskStateStore) before trading on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from msgspec.structs import replace

from app.domain.calendar import trading_day
from app.domain.money import ZERO
from app.domain.position import Trade
from app.ports.risk_state import GLOBAL, DailyCounters, Halt, HaltKind, StrategyState


@dataclass(frozen=True, slots=True)
class RiskLimits:
    max_drawdown: Decimal | None = None  # per strategy, dollars below its P&L peak
    global_max_drawdown: Decimal | None = None
    loss_streak: int = 0  # consecutive losing round trips that start a cool-down; 0 = off
    cooldown_ns: int = 0


@dataclass(frozen=True, slots=True)
class RiskChanges:
    states: tuple[StrategyState, ...] = ()
    counters: tuple[DailyCounters, ...] = ()
    halts: tuple[Halt, ...] = ()


@dataclass(slots=True)
class _LotResult:
    pnl: Decimal = ZERO
    opened_day: str = ""


@dataclass
class RiskBook:
    limits: RiskLimits
    day: str = ""
    halts: dict[tuple[str, HaltKind], Halt] = field(default_factory=dict)
    states: dict[str, StrategyState] = field(default_factory=dict)
    counters: dict[str, DailyCounters] = field(default_factory=dict)
    prior_day_trades: int = 0
    _lots: dict[str, _LotResult] = field(default_factory=dict)

    def load(
        self,
        *,
        day: str,
        halts: Iterable[Halt],
        states: Iterable[StrategyState],
        counters: Iterable[DailyCounters],
        prior_day_trades: int = 0,
    ) -> None:
        self.day = day
        self.set_halts(halts)
        self.states = {s.strategy: s for s in states}
        self.counters = {c.strategy: c for c in counters if c.trading_day == day}
        self.prior_day_trades = prior_day_trades

    def set_halts(self, halts: Iterable[Halt]) -> None:
        self.halts = {(h.scope, h.kind): h for h in halts}

    def new_day(self, day: str, *, prior_day_trades: int = 0) -> None:
        if day != self.day:
            self.day, self.counters, self.prior_day_trades = day, {}, prior_day_trades

    # the view --------------------------------------------------------------------------------
    def halt_for(self, strategy: str) -> Halt | None:
        for (scope, _kind), halt in sorted(self.halts.items()):
            if scope in (GLOBAL, strategy):
                return halt
        return None

    def strategy_state(self, strategy: str) -> StrategyState:
        return self.states.get(strategy) or StrategyState(strategy=strategy)

    def realized_today(self, strategy: str | None = None) -> Decimal:
        if strategy is not None:
            found = self.counters.get(strategy)
            return found.realized_pnl if found else ZERO
        return sum((c.realized_pnl for c in self.counters.values()), ZERO)

    def day_trades(self) -> int:
        return self.prior_day_trades + sum(c.day_trades for c in self.counters.values())

    # changes ---------------------------------------------------------------------------------
    def on_entry_fill(self, entry_order_id: str, *, ts_ns: int) -> None:
        self._lots.setdefault(entry_order_id, _LotResult(opened_day=trading_day(ts_ns).isoformat()))

    def on_trade(self, trade: Trade, *, lot_closed: bool, now_ns: int) -> RiskChanges:
        """Book one exit execution; a closed lot counts as one round trip for streaks and PDT."""
        day = trading_day(trade.exit_ns).isoformat()
        self.new_day(day)
        lot = self._lots.setdefault(trade.entry_order_id, _LotResult())
        lot.pnl += trade.realized_pnl
        counters = self.counters.get(trade.strategy) or DailyCounters(day, trade.strategy)
        counters = replace(counters, realized_pnl=counters.realized_pnl + trade.realized_pnl)
        state = self._with_pnl(self.strategy_state(trade.strategy), trade.realized_pnl)
        if lot_closed:
            del self._lots[trade.entry_order_id]
            counters = replace(
                counters,
                trades=counters.trades + 1,
                day_trades=counters.day_trades + (lot.opened_day == day),
            )
            state = self._with_streak(state, won=lot.pnl >= ZERO, now_ns=now_ns)
        whole = self._with_pnl(self.strategy_state(GLOBAL), trade.realized_pnl)
        self.counters[trade.strategy] = counters
        self.states[state.strategy] = state
        self.states[GLOBAL] = whole
        halts = [
            h
            for h in (
                self._breaker(state, self.limits.max_drawdown, now_ns=now_ns),
                self._breaker(whole, self.limits.global_max_drawdown, now_ns=now_ns),
            )
            if h is not None
        ]
        for halt in halts:
            self.halts[(halt.scope, halt.kind)] = halt
        return RiskChanges(states=(state, whole), counters=(counters,), halts=tuple(halts))

    @staticmethod
    def _with_pnl(state: StrategyState, pnl: Decimal) -> StrategyState:
        cumulative = state.cumulative_pnl + pnl
        return replace(state, cumulative_pnl=cumulative, peak_pnl=max(state.peak_pnl, cumulative))

    def _with_streak(self, state: StrategyState, *, won: bool, now_ns: int) -> StrategyState:
        if won:
            return replace(state, loss_streak=0)
        streak = state.loss_streak + 1
        if self.limits.loss_streak and streak >= self.limits.loss_streak:
            return replace(state, loss_streak=0, cooldown_until_ns=now_ns + self.limits.cooldown_ns)
        return replace(state, loss_streak=streak)

    def _breaker(self, state: StrategyState, limit: Decimal | None, *, now_ns: int) -> Halt | None:
        if limit is None or (state.strategy, HaltKind.DRAWDOWN) in self.halts:
            return None
        drawdown = state.peak_pnl - state.cumulative_pnl
        if drawdown < limit:
            return None
        return Halt(
            scope=state.strategy,
            kind=HaltKind.DRAWDOWN,
            reason=f"drawdown {drawdown} from peak {state.peak_pnl} reached {limit}",
            since_ns=now_ns,
            actor="risk",
        )
