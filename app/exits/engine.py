"""The exit engine: decides, per open lot and closed bar, whether to leave and why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from app.domain.calendar import session_close_ns, trading_day
from app.domain.market import Bar, Session
from app.domain.position import Lot
from app.domain.signal import Side, Signal, SignalKind
from app.exits.config import ExitConfig, ExitReason

EXIT_PRIORITY = 1_000


class ExitEngine:
    """Stop, target, maximum hold and end-of-session flatten, evaluated on every closed bar.

    Exits outrank entries (EXIT_PRIORITY). Stops use the bar's adverse extreme, targets its
    favourable extreme; the order itself is priced later from fresh market data.
    """

    def __init__(self, configs: Mapping[str, ExitConfig], *, default: ExitConfig) -> None:
        self._configs = dict(configs)
        self._default = default

    def config_for(self, strategy: str) -> ExitConfig:
        return self._configs.get(strategy, self._default)

    def decide(self, bar: Bar, lot: Lot) -> ExitReason | None:
        if lot.qty_open <= 0 or bar.session is Session.CLOSED:
            return None
        config = self.config_for(lot.strategy)
        long = lot.side is Side.BUY
        entry = float(lot.avg_price)
        stop = config.stop_price(entry, long=long)
        target = config.target_price(entry, long=long)
        if (bar.low <= stop) if long else (bar.high >= stop):
            return ExitReason.STOP
        if (bar.high >= target) if long else (bar.low <= target):
            return ExitReason.TARGET
        if bar.end_ns - lot.opened_ns >= config.max_hold_s * 1_000_000_000:
            return ExitReason.TIME
        if config.flatten_before_close_s is not None:
            close_ns = session_close_ns(trading_day(bar.ts_ns))
            if bar.end_ns >= close_ns - config.flatten_before_close_s * 1_000_000_000:
                return ExitReason.SESSION_END
        return None

    def on_bar(
        self, bar: Bar, lots: Sequence[Lot], *, attempt_of: Mapping[str, int]
    ) -> list[Signal]:
        """Exit signals for the lots this bar says to leave; `attempt_of` numbers retries."""
        signals: list[Signal] = []
        for lot in lots:
            reason = self.decide(bar, lot)
            if reason is None:
                continue
            attempt = attempt_of.get(lot.entry_order_id, 0)
            signals.append(
                Signal(
                    strategy=lot.strategy,
                    symbol=lot.symbol,
                    side=lot.side.opposite,
                    kind=SignalKind.EXIT,
                    ts_ns=bar.end_ns,
                    price=bar.close,
                    dedup_key=f"exit|{lot.entry_order_id}|{attempt}",
                    priority=EXIT_PRIORITY,
                    reason=reason.value,
                    closes=lot.entry_order_id,
                    qty=lot.qty_open,
                )
            )
        return signals
