"""Moving averages: SMA, EMA, WMA, with TA-Lib's warm-up conventions.

* SMA(n): first value at bar n-1; a running sum over a ring of the last n values.
* EMA(n): first value at bar n-1, seeded with the SMA of the first n values, then
  `ema += (x - ema) * 2 / (n + 1)`. `warmup` delays the first value (seed = SMA of the n values
  ending at bar warmup-1); MACD uses it to seed its fast EMA where the slow one starts, as TA-Lib
  does.
* WMA(n): weights 1 (oldest) .. n (newest) over n(n+1)/2; first value at bar n-1; a running sum
  and a running weighted sum.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from app.domain.market import Bar
from app.indicators.recurrence import decay_filter
from app.indicators.rolling import window_sum, window_weighted_sum
from app.indicators.spec import (
    VALUE,
    BatchContext,
    Field,
    FloatArray,
    IndicatorSpec,
    Step,
    StepContext,
)


def ema_series(x: FloatArray, period: int, first: int) -> FloatArray:
    """Batch EMA of `x` whose first value is at index `first` (seeded by the SMA of the `period`
    values ending there); NaN before."""
    out = np.full(x.size, np.nan)
    if first >= x.size:
        return out
    seed = float(np.sum(x[first - period + 1 : first + 1])) / period
    k = 2.0 / (period + 1)
    out[first] = seed
    out[first + 1 :] = decay_filter(k * x[first + 1 :], 1.0 - k, seed)
    return out


@dataclass(frozen=True, slots=True, eq=False)
class SMA(IndicatorSpec):
    """Simple moving average of `source` over `period` bars."""

    name = "sma"
    period: int = 10
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
        window: deque[float] = deque([0.0] * n, maxlen=n)
        total = 0.0
        seen = 0

        def step(bar: Bar) -> None:
            nonlocal total, seen
            x = getattr(bar, field)
            total += x - window[0]
            window.append(x)
            if seen < n:
                seen += 1
                if seen < n:
                    return
                ready[flag] = True
            values[slot] = total / n

        return step

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        return {VALUE: window_sum(ctx.bars.field(self.source), self.period) / self.period}


@dataclass(frozen=True, slots=True, eq=False)
class EMA(IndicatorSpec):
    """Exponential moving average, k = 2 / (period + 1), seeded by an SMA (TA-Lib)."""

    name = "ema"
    period: int = 10
    warmup: int = 0
    source: Field = "close"

    def check(self) -> None:
        self._require_period("period", self.period)
        self._require_period("warmup", self.warmup, minimum=0)
        self._require_source(self.source)
        if self.warmup <= self.period:
            object.__setattr__(self, "warmup", 0)

    def params(self) -> tuple[object, ...]:
        return (self.period, self.warmup) if self.warmup else (self.period,)

    @property
    def lookback(self) -> int:
        return max(self.period, self.warmup) - 1

    def incremental(self, ctx: StepContext) -> Step:
        n, field = self.period, self.source
        first = max(n, self.warmup)
        k = 2.0 / (n + 1)
        values, ready, slot, flag = ctx.values, ctx.ready, ctx.slot(), ctx.flag
        window: deque[float] = deque([0.0] * n, maxlen=n)
        total = 0.0
        ema = 0.0
        seen = 0

        def step(bar: Bar) -> None:
            nonlocal total, ema, seen
            x = getattr(bar, field)
            if seen == first:
                ema = (x - ema) * k + ema
                values[slot] = ema
                return
            total += x - window[0]
            window.append(x)
            seen += 1
            if seen == first:
                ema = total / n
                values[slot] = ema
                ready[flag] = True

        return step

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        x = ctx.bars.field(self.source)
        return {VALUE: ema_series(x, self.period, self.lookback)}


@dataclass(frozen=True, slots=True, eq=False)
class WMA(IndicatorSpec):
    """Linearly weighted moving average (weights 1..period, newest heaviest)."""

    name = "wma"
    period: int = 10
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
        divider = n * (n + 1) / 2.0
        values, ready, slot, flag = ctx.values, ctx.ready, ctx.slot(), ctx.flag
        window: deque[float] = deque([0.0] * n, maxlen=n)
        total = 0.0
        weighted = 0.0
        seen = 0

        def step(bar: Bar) -> None:
            nonlocal total, weighted, seen
            x = getattr(bar, field)
            weighted += n * x - total
            total += x - window[0]
            window.append(x)
            if seen < n:
                seen += 1
                if seen < n:
                    return
                ready[flag] = True
            values[slot] = weighted / divider

        return step

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        x = ctx.bars.field(self.source)
        divider = self.period * (self.period + 1) / 2.0
        return {VALUE: window_weighted_sum(x, self.period) / divider}
