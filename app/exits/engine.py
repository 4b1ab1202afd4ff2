"""The exit engine: decides, per open lot and closed bar, whether to leave, how much, and why."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from app.domain.calendar import session_close_ns, trading_day
from app.domain.exit_state import ExitState
from app.domain.market import Bar, Session
from app.domain.money import whole_shares
from app.domain.position import Lot
from app.domain.signal import Side, Signal, SignalKind
from app.exits.config import ExitConfig, ExitReason

EXIT_PRIORITY = 1_000
_NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class ExitDecision:
    reason: ExitReason
    qty: Decimal
    tag: str


class ExitEngine:
    """Stops use the bar's adverse extreme, targets its favourable one; the trailing stop follows
    the best price since entry and never loosens. Exits outrank entries (EXIT_PRIORITY); their
    orders are priced later, from fresh market data."""

    def __init__(self, configs: Mapping[str, ExitConfig], *, default: ExitConfig) -> None:
        self._configs = dict(configs)
        self._default = default

    def configure(self, configs: Mapping[str, ExitConfig]) -> None:
        """Use these per-strategy configurations from now on (an edited strategy)."""
        self._configs = dict(configs)

    def config_for(self, strategy: str) -> ExitConfig:
        return self._configs.get(strategy, self._default)

    def track(self, bar: Bar, lot: Lot, state: ExitState | None) -> ExitState:
        """The lot's exit state after this bar: the best price only ever improves."""
        long = lot.side is Side.BUY
        if state is None:
            state = ExitState(lot.entry_order_id, best_price=float(lot.avg_price))
        best = max(state.best_price, bar.high) if long else min(state.best_price, bar.low)
        return (
            state
            if best == state.best_price
            else ExitState(lot.entry_order_id, best_price=best, targets_hit=state.targets_hit)
        )

    def decide(
        self, bar: Bar, lot: Lot, state: ExitState, *, now_ns: int, atr: float | None = None
    ) -> ExitDecision | None:
        config = self.config_for(lot.strategy)
        if lot.qty_open <= 0 or bar.session is Session.CLOSED:
            return None
        if now_ns - bar.end_ns > config.stale_after_s * _NS:
            return None
        long = lot.side is Side.BUY
        entry = float(lot.avg_price)
        everything = lot.qty_open
        stop = config.stop_price(entry, long=long)
        if (bar.low <= stop) if long else (bar.high >= stop):
            return ExitDecision(ExitReason.STOP, everything, "stop")
        trail = config.trailing_price(state.best_price, long=long, atr=atr)
        if trail is not None and ((bar.low <= trail) if long else (bar.high >= trail)):
            return ExitDecision(ExitReason.TRAILING_STOP, everything, "trail")
        if state.targets_hit < len(config.targets):
            target = config.target_price(entry, state.targets_hit, long=long)
            if (bar.high >= target) if long else (bar.low <= target):
                return ExitDecision(
                    ExitReason.TARGET, self._target_qty(config, lot, state), f"t{state.targets_hit}"
                )
        if bar.end_ns - lot.opened_ns >= config.max_hold_s * _NS:
            return ExitDecision(ExitReason.TIME, everything, "time")
        if config.flatten_before_close_s is not None:
            close_ns = session_close_ns(trading_day(bar.ts_ns))
            if bar.end_ns >= close_ns - config.flatten_before_close_s * _NS:
                return ExitDecision(ExitReason.SESSION_END, everything, "eod")
        return None

    @staticmethod
    def _target_qty(config: ExitConfig, lot: Lot, state: ExitState) -> Decimal:
        if state.targets_hit == len(config.targets) - 1:
            return lot.qty_open
        share = whole_shares(
            lot.qty_filled * Decimal(str(config.targets[state.targets_hit].fraction))
        )
        return min(max(share, Decimal(1)), lot.qty_open)

    def on_bar(
        self,
        bar: Bar,
        lots: Sequence[Lot],
        *,
        states: Mapping[str, ExitState],
        now_ns: int,
        atr_of: Callable[[Lot], float | None] = lambda _lot: None,
    ) -> tuple[list[Signal], dict[str, ExitState]]:
        """Exit signals for this bar, and the exit states it changed (to persist)."""
        signals: list[Signal] = []
        changed: dict[str, ExitState] = {}
        for lot in lots:
            before = states.get(lot.entry_order_id)
            state = self.track(bar, lot, before)
            decision = self.decide(bar, lot, state, now_ns=now_ns, atr=atr_of(lot))
            if decision is not None and decision.reason is ExitReason.TARGET:
                state = ExitState(lot.entry_order_id, state.best_price, state.targets_hit + 1)
            if state != before:
                changed[lot.entry_order_id] = state
            if decision is None:
                continue
            signals.append(
                Signal(
                    strategy=lot.strategy,
                    symbol=lot.symbol,
                    side=lot.side.opposite,
                    kind=SignalKind.EXIT,
                    ts_ns=bar.end_ns,
                    price=bar.close,
                    dedup_key=f"exit|{lot.entry_order_id}|{decision.tag}|{bar.ts_ns}",
                    priority=EXIT_PRIORITY,
                    reason=decision.reason.value,
                    closes=lot.entry_order_id,
                    qty=decision.qty,
                )
            )
        return signals, changed
