"""Gates that refuse entries outright: halts, stale data, cool-downs, daily loss, PDT."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.domain.calendar import new_york_text
from app.risk.intent import OrderIntent, RiskView, Verdict, approve, reject


@dataclass(frozen=True, slots=True)
class HaltRule:
    """Kill switches and tripped breakers: no entry while the strategy or everything is halted."""

    name: str = "halt"

    def check(self, intent: OrderIntent, view: RiskView) -> Verdict:
        halt = view.halt_for(intent.strategy)
        if halt is not None:
            return reject(f"halted ({halt.scope}: {halt.kind.value}): {halt.reason}")
        return approve("not halted")


@dataclass(frozen=True, slots=True)
class StaleDataRule:
    """No entry when the symbol's last trade is older than `max_age_ns`: no guessing."""

    max_age_ns: int
    name: str = "stale_data"

    def check(self, intent: OrderIntent, view: RiskView) -> Verdict:
        age = view.now_ns() - intent.price_ts_ns
        if age > self.max_age_ns:
            return reject(
                f"last price is {age / 1e9:.1f} s old (limit {self.max_age_ns / 1e9:.1f} s)"
            )
        return approve(f"price age {age / 1e9:.1f} s")


@dataclass(frozen=True, slots=True)
class CooldownRule:
    """After a losing streak a strategy waits out its cool-down."""

    name: str = "loss_streak_cooldown"

    def check(self, intent: OrderIntent, view: RiskView) -> Verdict:
        state = view.strategy_state(intent.strategy)
        if state.cooldown_until_ns > view.now_ns():
            until = new_york_text(state.cooldown_until_ns)
            return reject(f"cooling down after a losing streak until {until}")
        return approve(f"loss streak {state.loss_streak}")


@dataclass(frozen=True, slots=True)
class DailyLossRule:
    """No new entries once today's realized loss reaches the limit (all strategies together);
    the next trading day starts fresh counters."""

    limit: Decimal
    name: str = "daily_loss"

    def check(self, intent: OrderIntent, view: RiskView) -> Verdict:
        today = view.realized_today()
        if today <= -self.limit:
            return reject(f"daily loss {today} reached the limit {self.limit}")
        return approve(f"today's P&L {today}")


@dataclass(frozen=True, slots=True)
class PatternDayTraderRule:
    """For brokers still enforcing PDT: below the equity floor, at most `max_day_trades` day
    trades in five trading days; an entry is refused once they are used up, since closing it
    the same day would be one more."""

    equity_floor: Decimal = Decimal("25000")
    max_day_trades: int = 3
    name: str = "pattern_day_trader"

    def check(self, intent: OrderIntent, view: RiskView) -> Verdict:
        if view.equity() >= self.equity_floor:
            return approve("equity above the PDT floor")
        used = view.day_trades()
        if used >= self.max_day_trades:
            return reject(f"{used} day trades in 5 days with equity below {self.equity_floor}")
        return approve(f"{used} of {self.max_day_trades} day trades used")
