"""What the built-in strategies do alike: when an entry is allowed and how it is spelled.

The exit engine enforces the strategy's `ExitConfig.stop_pct`; the signal's `stop_price` only
sizes the position (risk per share = price - stop). A structural stop (a pullback low, the
opening-range low) that sits above the configured stop would understate the risk actually
taken, so the sizing stop is the lower of the two: never tighter than the enforced one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from app.domain.ids import signal_dedup_key
from app.domain.market import Bar, Session
from app.domain.position import Lot
from app.domain.signal import Side, Signal, SignalKind
from app.exits.config import ExitConfig
from app.indicators import IndicatorSet, Ref


def may_enter(bar: Bar, lots: Sequence[Lot]) -> bool:
    """Entries only in the regular session and only while the strategy holds nothing here."""
    return bar.session is Session.REGULAR and not lots


def all_ready(ind: IndicatorSet, refs: Iterable[Ref]) -> bool:
    return all(ind.ready(ref) for ref in refs)


def unit(x: float) -> float:
    """Clamp a confidence into [0, 1]; NaN (an undefined ratio) is no confidence."""
    if math.isnan(x):
        return 0.0
    return min(1.0, max(0.0, x))


def sizing_stop(price: float, exit: ExitConfig, structural: float | None = None) -> float:
    """The configured stop, or the structural level when it lies lower (see the module doc)."""
    configured = exit.stop_price(price, long=True)
    if structural is None or math.isnan(structural):
        return configured
    return min(configured, structural)


def long_entry(
    *,
    strategy: str,
    priority: int,
    bar: Bar,
    stop: float,
    confidence: float,
    reason: str,
    ind: IndicatorSet,
    levels: Mapping[str, float] | None = None,
) -> Signal:
    """A BUY entry at the bar's close, keyed to the bar so a replay repeats the same key; the
    audit snapshot holds every demanded indicator plus the strategy's own derived `levels`."""
    return Signal(
        strategy=strategy,
        symbol=bar.symbol,
        side=Side.BUY,
        kind=SignalKind.ENTRY,
        ts_ns=bar.end_ns,
        price=bar.close,
        dedup_key=signal_dedup_key(
            strategy=strategy, symbol=bar.symbol, side="buy", bar_ts_ns=bar.ts_ns
        ),
        confidence=unit(confidence),
        priority=priority,
        stop_price=stop,
        reason=reason,
        indicators={**ind.snapshot(), **(levels or {})},
    )
