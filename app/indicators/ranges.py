"""Ranges: true range, ATR, rolling highest/lowest and Donchian channels.

* TrueRange: max(high, prior close) - min(low, prior close); first value at bar 1 (TA-Lib
  TRANGE, identical for bars with high >= low, which the market-data edge guarantees).
* ATR(n): Wilder's average of the true range, seeded by the plain mean of the first n true
  ranges (bars 1..n), then atr = (atr * (n - 1) + tr) / n; first value at bar n.
* Highest(n) / Lowest(n): extreme of the last n values (TA-Lib MAX / MIN), kept with a monotonic
  deque: each value enters and leaves it once, so a bar costs O(1) amortized.
* Donchian(n): Highest(n) of the highs, Lowest(n) of the lows and their midpoint (TA-Lib
  MIDPRICE); outputs upper, lower, middle.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from app.domain.market import Bar
from app.indicators.recurrence import decay_filter
from app.indicators.rolling import window_max, window_min
from app.indicators.spec import (
    NAN,
    VALUE,
    BatchContext,
    Field,
    FloatArray,
    IndicatorSpec,
    Output,
    Step,
    StepContext,
)


def true_range(high: FloatArray, low: FloatArray, close: FloatArray) -> FloatArray:
    out = np.full(close.size, np.nan)
    if close.size > 1:
        prior = close[:-1]
        out[1:] = np.maximum(high[1:], prior) - np.minimum(low[1:], prior)
    return out


@dataclass(frozen=True, slots=True, eq=False)
class TrueRange(IndicatorSpec):
    """True range of each bar against the prior close."""

    name = "trange"

    @property
    def lookback(self) -> int:
        return 1

    def incremental(self, ctx: StepContext) -> Step:
        values, ready, slot, flag = ctx.values, ctx.ready, ctx.slot(), ctx.flag
        prior = NAN

        def step(bar: Bar) -> None:
            nonlocal prior
            pc = prior
            prior = bar.close
            if pc != pc:  # first bar: no prior close yet
                return
            high, low = bar.high, bar.low
            values[slot] = (high if high > pc else pc) - (low if low < pc else pc)
            if not ready[flag]:
                ready[flag] = True

        return step

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        bars = ctx.bars
        return {VALUE: true_range(bars.high, bars.low, bars.close)}


@dataclass(frozen=True, slots=True, eq=False)
class ATR(IndicatorSpec):
    """Average true range, Wilder smoothing (TA-Lib ATR)."""

    name = "atr"
    period: int = 14

    def check(self) -> None:
        self._require_period("period", self.period)

    def params(self) -> tuple[object, ...]:
        return (self.period,)

    @property
    def lookback(self) -> int:
        return self.period

    def deps(self) -> tuple[IndicatorSpec, ...]:
        return (TrueRange(),)

    def incremental(self, ctx: StepContext) -> Step:
        n = self.period
        keep = n - 1
        values, ready, slot, flag = ctx.values, ctx.ready, ctx.slot(), ctx.flag
        tr_at, tr_flag = ctx.source(TrueRange())
        atr = 0.0
        seen = 0

        def step(bar: Bar) -> None:
            nonlocal atr, seen
            if seen == n:
                atr = (atr * keep + values[tr_at]) / n
                values[slot] = atr
                return
            if not ready[tr_flag]:
                return
            atr += values[tr_at]
            seen += 1
            if seen == n:
                atr /= n
                values[slot] = atr
                ready[flag] = True

        return step

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        tr = ctx.series(TrueRange())
        n = self.period
        out = np.full(tr.size, np.nan)
        if tr.size > n:
            seed = float(np.sum(tr[1 : n + 1])) / n
            out[n] = seed
            out[n + 1 :] = decay_filter(tr[n + 1 :] / n, (n - 1) / n, seed)
        return {VALUE: out}


def _extreme_step(ctx: StepContext, period: int, field: str, sign: float) -> Step:
    """Running max of sign * value over the last `period` bars (sign -1.0: the min), with a
    monotonic deque: candidates in decreasing order, each entering and leaving once."""
    values, ready, slot, flag = ctx.values, ctx.ready, ctx.slot(), ctx.flag
    candidates: deque[float] = deque()
    born: deque[int] = deque()
    t = 0

    def step(bar: Bar) -> None:
        nonlocal t
        x = sign * getattr(bar, field)
        while candidates and candidates[-1] <= x:
            candidates.pop()
            born.pop()
        candidates.append(x)
        born.append(t)
        t += 1
        if born[0] < t - period:
            candidates.popleft()
            born.popleft()
        if t >= period:
            values[slot] = sign * candidates[0]
            if t == period:
                ready[flag] = True

    return step


@dataclass(frozen=True, slots=True, eq=False)
class Highest(IndicatorSpec):
    """Highest `source` over the last `period` bars (TA-Lib MAX)."""

    name = "max"
    period: int = 20
    source: Field = "high"

    def check(self) -> None:
        self._require_period("period", self.period)
        self._require_source(self.source)

    def make_key(self) -> str:
        return f"{self.name}_{self.period}_{self.source}"

    @property
    def lookback(self) -> int:
        return self.period - 1

    def incremental(self, ctx: StepContext) -> Step:
        return _extreme_step(ctx, self.period, self.source, 1.0)

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        return {VALUE: window_max(ctx.bars.field(self.source), self.period)}


@dataclass(frozen=True, slots=True, eq=False)
class Lowest(IndicatorSpec):
    """Lowest `source` over the last `period` bars (TA-Lib MIN)."""

    name = "min"
    period: int = 20
    source: Field = "low"

    def check(self) -> None:
        self._require_period("period", self.period)
        self._require_source(self.source)

    def make_key(self) -> str:
        return f"{self.name}_{self.period}_{self.source}"

    @property
    def lookback(self) -> int:
        return self.period - 1

    def incremental(self, ctx: StepContext) -> Step:
        return _extreme_step(ctx, self.period, self.source, -1.0)

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        return {VALUE: window_min(ctx.bars.field(self.source), self.period)}


@dataclass(frozen=True, slots=True, eq=False)
class Donchian(IndicatorSpec):
    """Donchian channel: highest high, lowest low and their midpoint over `period` bars."""

    name = "donchian"
    outputs = ("upper", "lower", "middle")
    period: int = 20

    def check(self) -> None:
        self._require_period("period", self.period)

    def params(self) -> tuple[object, ...]:
        return (self.period,)

    @property
    def upper(self) -> Output:
        return Output(self, "upper")

    @property
    def lower(self) -> Output:
        return Output(self, "lower")

    @property
    def middle(self) -> Output:
        return Output(self, "middle")

    @property
    def lookback(self) -> int:
        return self.period - 1

    def deps(self) -> tuple[IndicatorSpec, ...]:
        return (Highest(self.period, "high"), Lowest(self.period, "low"))

    def incremental(self, ctx: StepContext) -> Step:
        high_spec, low_spec = self.deps()
        values, ready, flag = ctx.values, ctx.ready, ctx.flag
        hi_at, hi_flag = ctx.source(high_spec)
        lo_at, lo_flag = ctx.source(low_spec)
        up_at, low_at, mid_at = ctx.slot("upper"), ctx.slot("lower"), ctx.slot("middle")
        warm = False

        def step(bar: Bar) -> None:
            nonlocal warm
            if not warm:
                if not (ready[hi_flag] and ready[lo_flag]):
                    return
                warm = ready[flag] = True
            hi = values[hi_at]
            lo = values[lo_at]
            values[up_at] = hi
            values[low_at] = lo
            values[mid_at] = (hi + lo) / 2.0

        return step

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        high_spec, low_spec = self.deps()
        hi = ctx.series(high_spec)
        lo = ctx.series(low_spec)
        return {"upper": hi, "lower": lo, "middle": (hi + lo) / 2.0}
