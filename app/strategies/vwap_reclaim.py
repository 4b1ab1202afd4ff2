"""Mean reversion: a close back above VWAP after a stretch below it, on volume."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.domain.detection import ANY_SYMBOL
from app.domain.market import Bar, Session
from app.domain.position import Lot
from app.domain.signal import Signal
from app.exits.config import ExitConfig, Target
from app.indicators import VWAP, IndicatorSet, MinutesSinceOpen, Ref, RelVolume
from app.strategies.entry import all_ready, long_entry, may_enter, sizing_stop, unit
from app.strategies.param_checks import require_count, require_positive
from app.strategies.sessions import session_key


@dataclass(frozen=True, slots=True)
class VwapReclaimParams:
    min_bars_below: int = 5
    rvol_period: int = 20
    rvol_days: int = 5
    min_rvol: float = 1.5
    stop_buffer_pct: float = 0.2
    exit: ExitConfig = field(
        default_factory=lambda: ExitConfig(
            stop_pct=2.5,
            trailing_pct=2.0,
            targets=(Target(2.0, 0.5), Target(4.0, 1.0)),
            max_hold_s=1800,
        )
    )

    def __post_init__(self) -> None:
        require_count("min_bars_below", self.min_bars_below)
        require_count("rvol_period", self.rvol_period)
        require_count("rvol_days", self.rvol_days)
        require_positive("min_rvol", self.min_rvol)
        require_positive("stop_buffer_pct", self.stop_buffer_pct)


class _Stretch:
    """Per symbol and session: closes in a row under VWAP and the lowest low among them."""

    __slots__ = ("below", "low", "session")

    def __init__(self, session: int) -> None:
        self.session = session
        self.below = 0
        self.low = math.inf


class VwapReclaim:
    """After at least `min_bars_below` regular-session closes in a row under VWAP, enter when
    a green bar closes back above it with relative volume at least `min_rvol`. Stop under the
    stretch's low."""

    interval_s = 60
    accepts = ANY_SYMBOL

    def __init__(
        self,
        params: VwapReclaimParams | None = None,
        *,
        name: str = "vwap_reclaim",
        priority: int = 10,
    ) -> None:
        self.params = p = params or VwapReclaimParams()
        self.name = name
        self.priority = priority
        self.exit = p.exit
        self._vwap = VWAP()
        self._rvol = RelVolume(p.rvol_period, p.rvol_days)
        self._minutes = MinutesSinceOpen()
        self._refs: tuple[Ref, ...] = (self._vwap, self._rvol, self._minutes)
        self._stretches: dict[str, _Stretch] = {}

    @property
    def indicators(self) -> tuple[Ref, ...]:
        return self._refs

    def on_bar(self, bar: Bar, ind: IndicatorSet, lots: Sequence[Lot]) -> Signal | None:
        if bar.interval_s != self.interval_s or bar.session is not Session.REGULAR:
            return None
        p = self.params
        session = session_key(bar, ind.value(self._minutes))
        stretch = self._stretches.get(bar.symbol)
        if stretch is None or stretch.session != session:
            stretch = self._stretches[bar.symbol] = _Stretch(session)
        vwap, rvol = ind.value(self._vwap), ind.value(self._rvol)
        below, low = stretch.below, stretch.low
        if bar.close < vwap:
            stretch.below, stretch.low = below + 1, min(low, bar.low)
        else:
            stretch.below, stretch.low = 0, math.inf
        if (
            below < p.min_bars_below
            or not bar.close > vwap
            or bar.close <= bar.open
            or not rvol >= p.min_rvol
            or not all_ready(ind, self._refs)
            or not may_enter(bar, lots)
        ):
            return None
        return long_entry(
            strategy=self.name,
            priority=self.priority,
            bar=bar,
            stop=sizing_stop(bar.close, self.exit, low * (1 - p.stop_buffer_pct / 100)),
            confidence=(unit(below / (4 * p.min_bars_below)) + unit(rvol / (2 * p.min_rvol))) / 2,
            reason=(
                f"{below} closes under vwap >= {p.min_bars_below} (low {low:.4f}), green "
                f"close {bar.close:.4f} back above vwap {vwap:.4f}, rvol {rvol:.2f} >= "
                f"{p.min_rvol:g}"
            ),
            ind=ind,
            levels={"closes_below_vwap": float(below), "stretch_low": low},
        )
