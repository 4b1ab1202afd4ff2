"""Round trips from booked fills: what a backtest reports as its trades.

The book (app.engine.portfolio) yields one `Trade` per exit execution; a backtest reports one
trade per entry lot, from its first fill until nothing of it is open, so a lot scaled out at a
target and then stopped is one trade with one P&L (net of the entry's fee and every exit's).

The rule of a trade is what fired its entry: the leading tag of the entry signal's reason when
it has one (`tag: details`, a single word before a colon, as rule-based strategies write it),
otherwise the strategy's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.money import ZERO, to_avg_price
from app.domain.signal import Signal
from app.engine.portfolio import FillEffect
from app.persistence.backtests import BacktestTrade


def rule_of(signal: Signal) -> str:
    """The rule tag of an entry signal (module docstring)."""
    tag, colon, _ = signal.reason.partition(":")
    tag = tag.strip()
    if colon and tag and not any(c.isspace() for c in tag):
        return tag
    return signal.strategy


@dataclass(slots=True)
class _Exits:
    qty: Decimal = ZERO
    notional: Decimal = ZERO
    gross: Decimal = ZERO  # realized P&L of the exit executions, net of their fees
    fees: Decimal = ZERO
    reasons: list[str] = field(default_factory=list)
    last_ns: int = 0


class TradeBook:
    """Collects round trips as the session books fills."""

    def __init__(self) -> None:
        self.closed: list[BacktestTrade] = []
        self._rules: dict[str, str] = {}
        self._exits: dict[str, _Exits] = {}

    def entry_ordered(self, entry_order_id: str, signal: Signal) -> None:
        self._rules[entry_order_id] = rule_of(signal)

    def on_fill(self, effect: FillEffect) -> None:
        trade = effect.trade
        if trade is None:
            return
        exits = self._exits.setdefault(trade.entry_order_id, _Exits())
        exits.qty += trade.qty
        exits.notional += trade.qty * trade.exit_price
        exits.gross += trade.realized_pnl
        exits.fees += effect.fill.fee
        if not exits.reasons or exits.reasons[-1] != trade.exit_reason:
            exits.reasons.append(trade.exit_reason)
        exits.last_ns = trade.exit_ns
        lot = effect.lot
        if lot.qty_open > ZERO:
            return
        del self._exits[trade.entry_order_id]
        self.closed.append(
            BacktestTrade(
                strategy=lot.strategy,
                rule=self._rules.pop(lot.entry_order_id, lot.strategy),
                symbol=lot.symbol,
                side=lot.side,
                entry_ns=lot.opened_ns,
                exit_ns=exits.last_ns,
                entry_price=lot.avg_price,
                exit_price=to_avg_price(exits.notional / exits.qty),
                qty=exits.qty,
                fees=lot.fees + exits.fees,
                pnl=exits.gross - lot.fees,
                exit_reason="+".join(exits.reasons),
            )
        )
