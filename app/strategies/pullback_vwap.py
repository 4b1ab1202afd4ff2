"""A pullback to VWAP in an up-trending session, long only, regular session."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from app.domain.detection import ANY_SYMBOL
from app.domain.market import Bar, Session
from app.domain.position import Lot
from app.domain.signal import Signal
from app.exits.config import ExitConfig, Target
from app.indicators import VWAP, IndicatorSet, MinutesSinceOpen, Ref, Slope, VWAPBands
from app.strategies.entry import all_ready, long_entry, may_enter, sizing_stop, unit
from app.strategies.param_checks import require_count, require_non_negative, require_positive
from app.strategies.sessions import session_key


@dataclass(frozen=True, slots=True)
class PullbackVwapParams:
    min_bars_above: int = 5
    touch_pct: float = 0.3
    band_mult: float = 2.0
    slope_bars: int = 5
    stop_buffer_pct: float = 0.2
    exit: ExitConfig = field(
        default_factory=lambda: ExitConfig(
            stop_pct=2.5,
            trailing_pct=2.0,
            targets=(Target(3.0, 0.5), Target(6.0, 1.0)),
            max_hold_s=1800,
        )
    )

    def __post_init__(self) -> None:
        require_count("min_bars_above", self.min_bars_above)
        require_count("slope_bars", self.slope_bars)
        require_non_negative("touch_pct", self.touch_pct)
        require_positive("band_mult", self.band_mult)
        require_positive("stop_buffer_pct", self.stop_buffer_pct)


class _Ride:
    """Per symbol: closes in a row above VWAP without touching it, in the current session."""

    __slots__ = ("above", "session")

    def __init__(self, session: int) -> None:
        self.session = session
        self.above = 0


class PullbackVwap:
    """A symbol that closed above a rising VWAP for at least `min_bars_above` bars without
    touching it pulls back: the low comes within `touch_pct` of VWAP (below it too, but not
    under the lower `band_mult` band), and the bar closes green back above VWAP. Any touch
    or close under VWAP restarts the count, so each ride yields one pullback. Stop under the
    pullback low."""

    interval_s = 60
    accepts = ANY_SYMBOL

    def __init__(
        self,
        params: PullbackVwapParams | None = None,
        *,
        name: str = "pullback_vwap",
        priority: int = 15,
    ) -> None:
        self.params = p = params or PullbackVwapParams()
        self.name = name
        self.priority = priority
        self.exit = p.exit
        self._vwap = VWAP()
        self._lower = VWAPBands(p.band_mult).lower
        self._slope = Slope(self._vwap, p.slope_bars)
        self._minutes = MinutesSinceOpen()
        self._refs: tuple[Ref, ...] = (self._vwap, self._lower, self._slope, self._minutes)
        self._rides: dict[str, _Ride] = {}

    @property
    def indicators(self) -> tuple[Ref, ...]:
        return self._refs

    def on_bar(self, bar: Bar, ind: IndicatorSet, lots: Sequence[Lot]) -> Signal | None:
        if bar.interval_s != self.interval_s or bar.session is not Session.REGULAR:
            return None
        p = self.params
        session = session_key(bar, ind.value(self._minutes))
        ride = self._rides.get(bar.symbol)
        if ride is None or ride.session != session:
            ride = self._rides[bar.symbol] = _Ride(session)
        vwap, lower, slope = ind.value(self._vwap), ind.value(self._lower), ind.value(self._slope)
        touched = bar.low <= vwap * (1 + p.touch_pct / 100)
        above = ride.above
        ride.above = 0 if touched or not bar.close > vwap else above + 1
        if (
            above < p.min_bars_above
            or not touched
            or not all_ready(ind, self._refs)
            or not bar.low >= lower
            or not bar.close > vwap
            or bar.close <= bar.open
            or not slope > 0
            or not may_enter(bar, lots)
        ):
            return None
        return long_entry(
            strategy=self.name,
            priority=self.priority,
            bar=bar,
            stop=sizing_stop(bar.close, self.exit, bar.low * (1 - p.stop_buffer_pct / 100)),
            confidence=0.5 + 0.5 * unit(above / (4 * p.min_bars_above)),
            reason=(
                f"{above} closes above rising vwap (slope {slope:.4f}/bar) >= "
                f"{p.min_bars_above}, low {bar.low:.4f} within {p.touch_pct:g}% of vwap "
                f"{vwap:.4f} and above the lower band {lower:.4f}, green close "
                f"{bar.close:.4f} back above vwap"
            ),
            ind=ind,
            levels={"closes_above_vwap": float(above)},
        )
