"""Momentum entries: `Momentum` for fast movers, `SlowMomentum` for slow ones waking up.

Both fire on the bar where their conditions first all hold (they were not all true on the
previous bar), so a move that keeps qualifying yields one entry, not one per bar.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.domain.detection import DetectionKind
from app.domain.market import Bar
from app.domain.position import Lot
from app.domain.signal import Signal
from app.exits.config import ExitConfig, Target
from app.indicators import EMA, ROC, VWAP, IndicatorSet, Ref, RelVolume
from app.strategies.entry import all_ready, long_entry, may_enter, sizing_stop, unit
from app.strategies.param_checks import require_count, require_positive


@dataclass(frozen=True, slots=True)
class MomentumParams:
    roc_period: int = 5
    min_roc_pct: float = 3.0
    fast_ema: int = 9
    slow_ema: int = 20
    rvol_period: int = 20
    rvol_days: int = 5
    min_rvol: float = 3.0
    exit: ExitConfig = field(
        default_factory=lambda: ExitConfig(
            stop_pct=4.0,
            trailing_pct=3.0,
            targets=(Target(5.0, 0.5), Target(10.0, 1.0)),
            max_hold_s=1200,
        )
    )

    def __post_init__(self) -> None:
        for label in ("roc_period", "fast_ema", "slow_ema", "rvol_period", "rvol_days"):
            require_count(label, getattr(self, label))
        require_positive("min_roc_pct", self.min_roc_pct)
        require_positive("min_rvol", self.min_rvol)
        if self.fast_ema >= self.slow_ema:
            raise ValueError(
                f"fast_ema ({self.fast_ema}) must be shorter than slow_ema ({self.slow_ema})"
            )


class Momentum:
    """A fast mover accelerating: rate of change over `roc_period` bars at least
    `min_roc_pct`, close above VWAP, the fast EMA above the slow one, relative volume at least
    `min_rvol`, on a green bar."""

    interval_s = 60
    accepts = frozenset({DetectionKind.FAST})

    def __init__(
        self,
        params: MomentumParams | None = None,
        *,
        name: str = "momentum_fast",
        priority: int = 25,
    ) -> None:
        self.params = p = params or MomentumParams()
        self.name = name
        self.priority = priority
        self.exit = p.exit
        self._roc = ROC(p.roc_period)
        self._vwap = VWAP()
        self._fast = EMA(p.fast_ema)
        self._slow = EMA(p.slow_ema)
        self._rvol = RelVolume(p.rvol_period, p.rvol_days)
        self._refs: tuple[Ref, ...] = (self._roc, self._vwap, self._fast, self._slow, self._rvol)
        self._was_on: dict[str, bool] = {}

    @property
    def indicators(self) -> tuple[Ref, ...]:
        return self._refs

    def on_bar(self, bar: Bar, ind: IndicatorSet, lots: Sequence[Lot]) -> Signal | None:
        if bar.interval_s != self.interval_s:
            return None
        p = self.params
        roc, vwap = ind.value(self._roc), ind.value(self._vwap)
        fast, slow, rvol = ind.value(self._fast), ind.value(self._slow), ind.value(self._rvol)
        on = (
            all_ready(ind, self._refs)
            and roc >= p.min_roc_pct
            and bar.close > vwap
            and fast > slow
            and rvol >= p.min_rvol
            and bar.close > bar.open
        )
        was_on = self._was_on.get(bar.symbol, False)
        self._was_on[bar.symbol] = on
        if not on or was_on or not may_enter(bar, lots):
            return None
        return long_entry(
            strategy=self.name,
            priority=self.priority,
            bar=bar,
            stop=sizing_stop(bar.close, self.exit),
            confidence=(unit(roc / (2 * p.min_roc_pct)) + unit(rvol / (2 * p.min_rvol))) / 2,
            reason=(
                f"{self._roc.key} {roc:.2f}% >= {p.min_roc_pct:g}%, "
                f"close {bar.close:.4f} > vwap {vwap:.4f}, "
                f"{self._fast.key} {fast:.4f} > {self._slow.key} {slow:.4f}, "
                f"rvol {rvol:.2f} >= {p.min_rvol:g}, green bar"
            ),
            ind=ind,
        )


@dataclass(frozen=True, slots=True)
class SlowMomentumParams:
    higher_lows: int = 4
    roc_period: int = 10
    min_roc_pct: float = 1.0
    rvol_period: int = 20
    rvol_days: int = 5
    min_rvol: float = 1.2
    stop_buffer_pct: float = 0.2
    exit: ExitConfig = field(
        default_factory=lambda: ExitConfig(
            stop_pct=3.0,
            trailing_pct=2.0,
            targets=(Target(3.0, 0.5), Target(6.0, 1.0)),
            max_hold_s=2400,
        )
    )

    def __post_init__(self) -> None:
        for label in ("higher_lows", "roc_period", "rvol_period", "rvol_days"):
            require_count(label, getattr(self, label))
        require_positive("min_roc_pct", self.min_roc_pct)
        require_positive("min_rvol", self.min_rvol)
        require_positive("stop_buffer_pct", self.stop_buffer_pct)


class _Staircase:
    """Per symbol: the current run of higher lows, where it started, and last bar's state."""

    __slots__ = ("base_low", "count", "last_low", "last_rvol", "was_on")

    def __init__(self, low: float) -> None:
        self.base_low = low
        self.count = 0
        self.last_low = low
        self.last_rvol = math.nan
        self.was_on = False


class SlowMomentum:
    """A slow mover turning up: at least `higher_lows` bars in a row each with a higher low,
    close above VWAP, a gentle rate of change, relative volume at least `min_rvol` and rising.
    The sizing stop sits under the low the staircase started from."""

    interval_s = 60
    accepts = frozenset({DetectionKind.SLOW})

    def __init__(
        self,
        params: SlowMomentumParams | None = None,
        *,
        name: str = "momentum_slow",
        priority: int = 25,
    ) -> None:
        self.params = p = params or SlowMomentumParams()
        self.name = name
        self.priority = priority
        self.exit = p.exit
        self._roc = ROC(p.roc_period)
        self._vwap = VWAP()
        self._rvol = RelVolume(p.rvol_period, p.rvol_days)
        self._refs: tuple[Ref, ...] = (self._roc, self._vwap, self._rvol)
        self._stairs: dict[str, _Staircase] = {}

    @property
    def indicators(self) -> tuple[Ref, ...]:
        return self._refs

    def on_bar(self, bar: Bar, ind: IndicatorSet, lots: Sequence[Lot]) -> Signal | None:
        if bar.interval_s != self.interval_s:
            return None
        p = self.params
        stairs = self._stairs.get(bar.symbol)
        if stairs is None:
            stairs = self._stairs[bar.symbol] = _Staircase(bar.low)
        elif bar.low > stairs.last_low:
            stairs.count += 1
        else:
            stairs.count, stairs.base_low = 0, bar.low
        stairs.last_low = bar.low
        roc, vwap, rvol = ind.value(self._roc), ind.value(self._vwap), ind.value(self._rvol)
        rising = rvol > stairs.last_rvol
        stairs.last_rvol = rvol
        on = (
            all_ready(ind, self._refs)
            and stairs.count >= p.higher_lows
            and bar.close > vwap
            and roc >= p.min_roc_pct
            and rvol >= p.min_rvol
            and rising
        )
        was_on, stairs.was_on = stairs.was_on, on
        if not on or was_on or not may_enter(bar, lots):
            return None
        base = stairs.base_low * (1 - p.stop_buffer_pct / 100)
        return long_entry(
            strategy=self.name,
            priority=self.priority,
            bar=bar,
            stop=sizing_stop(bar.close, self.exit, base),
            confidence=(unit(stairs.count / (2 * p.higher_lows)) + unit(rvol / (2 * p.min_rvol)))
            / 2,
            reason=(
                f"{stairs.count} higher lows >= {p.higher_lows}, "
                f"close {bar.close:.4f} > vwap {vwap:.4f}, "
                f"{self._roc.key} {roc:.2f}% >= {p.min_roc_pct:g}%, "
                f"rvol {rvol:.2f} >= {p.min_rvol:g} and rising"
            ),
            ind=ind,
            levels={"staircase_base_low": stairs.base_low, "higher_lows": float(stairs.count)},
        )
