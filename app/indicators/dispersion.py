"""Dispersion: rolling standard deviation and Bollinger bands.

StdDev(n) is the *population* standard deviation of the last n values (TA-Lib's STDDEV with
nbdev 1), first value at bar n-1. The incremental form keeps the sum and the sum of squares of
the deviations from a shift near the data, so the variance never comes from subtracting two
squares of the price (which loses every digit for a $100 stock moving a cent); the sums are
rebuilt exactly once per window length (amortized one add per bar) so rounding cannot
accumulate, and a window of identical values reads exactly 0.

BBands(n, mult) = SMA(n) +/- mult * StdDev(n), outputs upper, middle, lower; it reads its two
dependencies rather than recomputing them.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from app.domain.market import Bar
from app.indicators.averages import SMA
from app.indicators.rolling import window_moments
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


@dataclass(frozen=True, slots=True, eq=False)
class StdDev(IndicatorSpec):
    """Population standard deviation of `source` over `period` bars."""

    name = "stddev"
    period: int = 20
    source: Field = "close"

    def check(self) -> None:
        self._require_period("period", self.period)
        self._require_source(self.source)

    def params(self) -> tuple[object, ...]:
        return (self.period,)

    @property
    def lookback(self) -> int:
        return self.period - 1

    def incremental(self, ctx: StepContext) -> Step:
        n, field = self.period, self.source
        values, ready, slot, flag = ctx.values, ctx.ready, ctx.slot(), ctx.flag
        window: deque[float] = deque(maxlen=n)
        shift = s1 = s2 = 0.0
        previous = NAN
        equal_run = 0
        since_rebuild = 0

        def step(bar: Bar) -> None:
            nonlocal shift, s1, s2, previous, equal_run, since_rebuild
            x = getattr(bar, field)
            equal_run = equal_run + 1 if x == previous else 0
            previous = x
            if len(window) == n:
                leaving = window[0] - shift
                arriving = x - shift
                window.append(x)
                s1 += arriving - leaving
                s2 += arriving * arriving - leaving * leaving
                since_rebuild += 1
            else:
                if not window:
                    shift = x
                window.append(x)
                d = x - shift
                s1 += d
                s2 += d * d
                if len(window) < n:
                    return
                ready[flag] = True
            if equal_run >= n - 1:
                shift, s1, s2, since_rebuild = x, 0.0, 0.0, 0
                values[slot] = 0.0
                return
            if since_rebuild >= n:
                shift, s1, s2, since_rebuild = x, 0.0, 0.0, 0
                for v in window:
                    d = v - x
                    s1 += d
                    s2 += d * d
            mean = s1 / n
            var = s2 / n - mean * mean
            values[slot] = math.sqrt(var) if var > 0.0 else 0.0

        return step

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        _, var = window_moments(ctx.bars.field(self.source), self.period)
        return {VALUE: np.sqrt(var)}


@dataclass(frozen=True, slots=True, eq=False)
class BBands(IndicatorSpec):
    """Bollinger bands: SMA(period) +/- mult * population StdDev(period)."""

    name = "bbands"
    outputs = ("upper", "middle", "lower")
    period: int = 20
    mult: float = 2.0
    source: Field = "close"

    def check(self) -> None:
        self._require_period("period", self.period)
        object.__setattr__(self, "mult", self._require_positive("mult", self.mult))
        self._require_source(self.source)

    def params(self) -> tuple[object, ...]:
        return (self.period, self.mult)

    @property
    def upper(self) -> Output:
        return Output(self, "upper")

    @property
    def middle(self) -> Output:
        return Output(self, "middle")

    @property
    def lower(self) -> Output:
        return Output(self, "lower")

    @property
    def lookback(self) -> int:
        return self.period - 1

    def deps(self) -> tuple[IndicatorSpec, ...]:
        return (SMA(self.period, self.source), StdDev(self.period, self.source))

    def incremental(self, ctx: StepContext) -> Step:
        mult = self.mult
        sma, std = self.deps()
        values, ready, flag = ctx.values, ctx.ready, ctx.flag
        mid_at, mid_flag = ctx.source(sma)
        dev_at, dev_flag = ctx.source(std)
        up_at, middle_at, low_at = ctx.slot("upper"), ctx.slot("middle"), ctx.slot("lower")
        warm = False

        def step(bar: Bar) -> None:
            nonlocal warm
            if not warm:
                if not (ready[mid_flag] and ready[dev_flag]):
                    return
                warm = ready[flag] = True
            mid = values[mid_at]
            width = values[dev_at] * mult
            values[up_at] = mid + width
            values[middle_at] = mid
            values[low_at] = mid - width

        return step

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        sma, std = self.deps()
        mid = ctx.series(sma)
        width = ctx.series(std) * self.mult
        return {"upper": mid + width, "middle": mid, "lower": mid - width}
