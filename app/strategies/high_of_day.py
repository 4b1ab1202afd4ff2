"""Trend continuation: a close above the high of day, on volume, above VWAP.

The high of day is derived from the bars (no indicator holds it): the highest high of the
symbol's earlier bars on the same New York date, pre-market included unless told otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.domain.detection import FAST_AND_SLOW
from app.domain.market import Bar, Session
from app.domain.position import Lot
from app.domain.signal import Signal
from app.exits.config import ExitConfig, Target
from app.indicators import VWAP, IndicatorSet, MinutesSinceOpen, Ref, RelVolume
from app.strategies.entry import all_ready, long_entry, may_enter, sizing_stop, unit
from app.strategies.param_checks import require_count, require_non_negative, require_positive
from app.strategies.sessions import session_key


@dataclass(frozen=True, slots=True)
class HighOfDayParams:
    include_premarket: bool = True
    min_minutes_into_session: float = 5.0
    rvol_period: int = 20
    rvol_days: int = 5
    min_rvol: float = 2.0
    exit: ExitConfig = field(
        default_factory=lambda: ExitConfig(
            stop_pct=3.0,
            trailing_pct=2.0,
            targets=(Target(4.0, 0.5), Target(8.0, 1.0)),
            max_hold_s=1200,
        )
    )

    def __post_init__(self) -> None:
        if not isinstance(self.include_premarket, bool):
            raise ValueError(
                f"include_premarket must be true or false, got {self.include_premarket!r}"
            )
        require_non_negative("min_minutes_into_session", self.min_minutes_into_session)
        require_count("rvol_period", self.rvol_period)
        require_count("rvol_days", self.rvol_days)
        require_positive("min_rvol", self.min_rvol)


class _Day:
    __slots__ = ("high", "session")

    def __init__(self, session: int) -> None:
        self.session = session
        self.high = math.nan


class HighOfDay:
    """Enter when a green regular-session bar closes above the high of day so far, at least
    `min_minutes_into_session` after the open, above VWAP, with relative volume at least
    `min_rvol`. Trades detected movers only (fast or slow)."""

    interval_s = 60
    accepts = FAST_AND_SLOW

    def __init__(
        self,
        params: HighOfDayParams | None = None,
        *,
        name: str = "high_of_day",
        priority: int = 30,
    ) -> None:
        self.params = p = params or HighOfDayParams()
        self.name = name
        self.priority = priority
        self.exit = p.exit
        self._vwap = VWAP()
        self._rvol = RelVolume(p.rvol_period, p.rvol_days)
        self._minutes = MinutesSinceOpen()
        self._refs: tuple[Ref, ...] = (self._vwap, self._rvol, self._minutes)
        self._days: dict[str, _Day] = {}

    @property
    def indicators(self) -> tuple[Ref, ...]:
        return self._refs

    def on_bar(self, bar: Bar, ind: IndicatorSet, lots: Sequence[Lot]) -> Signal | None:
        if bar.interval_s != self.interval_s:
            return None
        p = self.params
        regular = bar.session is Session.REGULAR
        if not (regular or (p.include_premarket and bar.session is Session.PRE)):
            return None
        minutes = ind.value(self._minutes)
        session = session_key(bar, minutes)
        day = self._days.get(bar.symbol)
        if day is None or day.session != session:
            day = self._days[bar.symbol] = _Day(session)
        high = day.high
        day.high = bar.high if math.isnan(high) else max(high, bar.high)
        vwap, rvol = ind.value(self._vwap), ind.value(self._rvol)
        if (
            not regular
            or math.isnan(high)
            or bar.close <= high
            or bar.close <= bar.open
            or minutes < p.min_minutes_into_session
            or not all_ready(ind, self._refs)
            or not bar.close > vwap
            or not rvol >= p.min_rvol
            or not may_enter(bar, lots)
        ):
            return None
        return long_entry(
            strategy=self.name,
            priority=self.priority,
            bar=bar,
            stop=sizing_stop(bar.close, self.exit),
            confidence=unit(rvol / (2 * p.min_rvol)),
            reason=(
                f"green close {bar.close:.4f} > high of day {high:.4f}, above vwap "
                f"{vwap:.4f}, rvol {rvol:.2f} >= {p.min_rvol:g}, {minutes:.0f} minutes in"
            ),
            ind=ind,
            levels={"high_of_day_before": high},
        )
