"""Gap-down reclaim: a close back above the prior session's close after trading under it.

The prior close is derived from the bars (the last regular-session close of the symbol's
previous session), so the strategy needs that session in its history: a live shard warms up
on it, a backtest replays it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.domain.detection import ANY_SYMBOL
from app.domain.market import Bar, Session
from app.domain.position import Lot
from app.domain.signal import Signal
from app.exits.config import ExitConfig, Target
from app.indicators import IndicatorSet, MinutesSinceOpen, Ref, RelVolume
from app.strategies.entry import all_ready, long_entry, may_enter, sizing_stop, unit
from app.strategies.param_checks import require_count, require_positive
from app.strategies.sessions import session_key


@dataclass(frozen=True, slots=True)
class PriorCloseReclaimParams:
    min_gap_pct: float = 2.0
    min_bars_below: int = 3
    rvol_period: int = 20
    rvol_days: int = 5
    min_rvol: float = 1.5
    stop_buffer_pct: float = 0.2
    exit: ExitConfig = field(
        default_factory=lambda: ExitConfig(
            stop_pct=3.0,
            trailing_pct=2.5,
            targets=(Target(3.0, 0.5), Target(6.0, 1.0)),
            max_hold_s=2400,
        )
    )

    def __post_init__(self) -> None:
        require_positive("min_gap_pct", self.min_gap_pct)
        require_count("min_bars_below", self.min_bars_below)
        require_count("rvol_period", self.rvol_period)
        require_count("rvol_days", self.rvol_days)
        require_positive("min_rvol", self.min_rvol)
        require_positive("stop_buffer_pct", self.stop_buffer_pct)


class _Sessions:
    """Per symbol: the prior session's close and today's open, low, closes in a row under the
    prior close, the last close, and whether today's reclaim already fired."""

    __slots__ = ("below", "fired", "last_close", "low", "open", "prior_close", "session")

    def __init__(self, bar: Bar, session: int, prior_close: float) -> None:
        self.session = session
        self.prior_close = prior_close
        self.open, self.low = bar.open, math.inf
        self.last_close = math.nan
        self.below = 0
        self.fired = False


class PriorCloseReclaim:
    """The session opened at least `min_gap_pct` under the prior close and closed under it at
    least `min_bars_below` bars in a row; enter when a green bar closes back above the prior
    close with relative volume at least `min_rvol`, once per session. Stop under the session
    low."""

    interval_s = 60
    accepts = ANY_SYMBOL

    def __init__(
        self,
        params: PriorCloseReclaimParams | None = None,
        *,
        name: str = "prior_close_reclaim",
        priority: int = 10,
    ) -> None:
        self.params = p = params or PriorCloseReclaimParams()
        self.name = name
        self.priority = priority
        self.exit = p.exit
        self._rvol = RelVolume(p.rvol_period, p.rvol_days)
        self._minutes = MinutesSinceOpen()
        self._refs: tuple[Ref, ...] = (self._rvol, self._minutes)
        self._sessions: dict[str, _Sessions] = {}

    @property
    def indicators(self) -> tuple[Ref, ...]:
        return self._refs

    def on_bar(self, bar: Bar, ind: IndicatorSet, lots: Sequence[Lot]) -> Signal | None:
        if bar.interval_s != self.interval_s or bar.session is not Session.REGULAR:
            return None
        p = self.params
        session = session_key(bar, ind.value(self._minutes))
        day = self._sessions.get(bar.symbol)
        if day is None or day.session != session:
            prior = math.nan if day is None else day.last_close
            day = self._sessions[bar.symbol] = _Sessions(bar, session, prior)
        below = day.below
        day.below = below + 1 if bar.close < day.prior_close else 0
        day.low = low = min(day.low, bar.low)
        day.last_close = bar.close
        gap_pct = 100 * (day.open / day.prior_close - 1)
        rvol = ind.value(self._rvol)
        if (
            day.fired
            or not gap_pct <= -p.min_gap_pct
            or below < p.min_bars_below
            or not bar.close > day.prior_close
            or bar.close <= bar.open
            or not rvol >= p.min_rvol
            or not all_ready(ind, self._refs)
            or not may_enter(bar, lots)
        ):
            return None
        day.fired = True
        return long_entry(
            strategy=self.name,
            priority=self.priority,
            bar=bar,
            stop=sizing_stop(bar.close, self.exit, low * (1 - p.stop_buffer_pct / 100)),
            confidence=(unit(-gap_pct / (4 * p.min_gap_pct)) + unit(rvol / (2 * p.min_rvol))) / 2,
            reason=(
                f"opened {gap_pct:.2f}% under the prior close {day.prior_close:.4f}, "
                f"{below} closes under it >= {p.min_bars_below}, green close "
                f"{bar.close:.4f} back above it, rvol {rvol:.2f} >= {p.min_rvol:g}"
            ),
            ind=ind,
            levels={"prior_close": day.prior_close, "gap_pct": gap_pct, "session_low": low},
        )
