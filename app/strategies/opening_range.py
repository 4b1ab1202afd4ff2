"""Opening-range breakout, long only, until a cutoff time.

The range is derived from the bars themselves (no indicator holds it): the high, low and mean
bar volume of the regular-session bars that end within the first `range_minutes`.
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
from app.indicators import IndicatorSet, MinutesSinceOpen, Ref
from app.strategies.entry import long_entry, may_enter, sizing_stop, unit
from app.strategies.param_checks import require_count, require_positive
from app.strategies.sessions import session_key


@dataclass(frozen=True, slots=True)
class OpeningRangeParams:
    range_minutes: int = 15
    cutoff_minutes: float = 90.0
    volume_mult: float = 1.5
    exit: ExitConfig = field(
        default_factory=lambda: ExitConfig(
            stop_pct=3.0,
            trailing_pct=2.5,
            targets=(Target(4.0, 0.5), Target(8.0, 1.0)),
            max_hold_s=1800,
        )
    )

    def __post_init__(self) -> None:
        require_count("range_minutes", self.range_minutes)
        require_positive("cutoff_minutes", self.cutoff_minutes)
        require_positive("volume_mult", self.volume_mult)
        if self.cutoff_minutes <= self.range_minutes:
            raise ValueError(
                f"cutoff_minutes ({self.cutoff_minutes:g}) must come after "
                f"the range closes at range_minutes ({self.range_minutes})"
            )


class _Range:
    """Per symbol and session: the opening range so far, the last close, whether it fired."""

    __slots__ = ("bars", "fired", "high", "last_close", "low", "session", "volume")

    def __init__(self, session: int) -> None:
        self.session = session
        self.high, self.low = -math.inf, math.inf
        self.volume, self.bars = 0.0, 0
        self.last_close = math.nan
        self.fired = False


class OpeningRange:
    """Enter on the first close above the opening-range high (the previous close was at or
    under it) on volume at least `volume_mult` times the range's mean bar volume, before
    `cutoff_minutes` after the open; at most once per session. Stop under the range low."""

    interval_s = 60
    accepts = ANY_SYMBOL

    def __init__(
        self,
        params: OpeningRangeParams | None = None,
        *,
        name: str = "opening_range",
        priority: int = 30,
    ) -> None:
        self.params = params or OpeningRangeParams()
        self.name = name
        self.priority = priority
        self.exit = self.params.exit
        self._minutes = MinutesSinceOpen()
        self._ranges: dict[str, _Range] = {}

    @property
    def indicators(self) -> tuple[Ref, ...]:
        return (self._minutes,)

    def on_bar(self, bar: Bar, ind: IndicatorSet, lots: Sequence[Lot]) -> Signal | None:
        if bar.interval_s != self.interval_s or bar.session is not Session.REGULAR:
            return None
        p = self.params
        minutes = ind.value(self._minutes)
        session = session_key(bar, minutes)
        rng = self._ranges.get(bar.symbol)
        if rng is None or rng.session != session:
            rng = self._ranges[bar.symbol] = _Range(session)
        last_close, rng.last_close = rng.last_close, bar.close
        if minutes + bar.interval_s / 60 <= p.range_minutes:
            rng.high, rng.low = max(rng.high, bar.high), min(rng.low, bar.low)
            rng.volume += bar.volume
            rng.bars += 1
            return None
        if rng.bars == 0 or rng.fired or minutes >= p.cutoff_minutes:
            return None
        mean_volume = rng.volume / rng.bars
        if (
            bar.close <= rng.high
            or not last_close <= rng.high
            or bar.volume < p.volume_mult * mean_volume
            or not may_enter(bar, lots)
        ):
            return None
        rng.fired = True
        return long_entry(
            strategy=self.name,
            priority=self.priority,
            bar=bar,
            stop=sizing_stop(bar.close, self.exit, rng.low),
            confidence=unit(bar.volume / (2 * p.volume_mult * max(1.0, mean_volume))),
            reason=(
                f"close {bar.close:.4f} > {p.range_minutes}-minute opening range high "
                f"{rng.high:.4f} (low {rng.low:.4f}), volume {bar.volume} >= "
                f"{p.volume_mult:g} x range mean {mean_volume:.0f}, {minutes:.0f} minutes in "
                f"< cutoff {p.cutoff_minutes:g}"
            ),
            ind=ind,
            levels={"or_high": rng.high, "or_low": rng.low, "or_mean_volume": mean_volume},
        )
