"""Trajectory of any other indicator: slope and acceleration over n bars, for rule mining.

* Slope(of, n) = (x - x[n bars ago]) / n, the mean change per bar of the indicator output `of`;
  Slope(of, 1) is the first difference. Ready n bars after `of` is ready.
* Accel(of, n) = Slope(Slope(of, n), n): the change of that slope per bar, i.e.
  (x - 2 x[n ago] + x[2n ago]) / n^2. It reads its Slope dependency, so a strategy using both
  computes the slope once.

`of` is a single-output spec or one output of a multi-output spec, e.g.
`Slope(MACD(12, 26, 9).hist, 3)`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from app.domain.market import Bar
from app.indicators.errors import IndicatorParamError
from app.indicators.spec import (
    VALUE,
    BatchContext,
    FloatArray,
    IndicatorSpec,
    Output,
    Ref,
    Step,
    StepContext,
    output_of,
    spec_of,
)


def _difference_step(ctx: StepContext, source: Ref, n: int) -> Step:
    values, ready, slot, flag = ctx.values, ctx.ready, ctx.slot(), ctx.flag
    src_at, src_flag = ctx.source(source)
    window: deque[float] = deque(maxlen=n)
    warm = False

    def step(bar: Bar) -> None:
        nonlocal warm
        if not warm:
            if not ready[src_flag]:
                return
            if len(window) < n:
                window.append(values[src_at])
                return
            warm = ready[flag] = True
        x = values[src_at]
        values[slot] = (x - window[0]) / n
        window.append(x)

    return step


def _difference(x: FloatArray, n: int) -> FloatArray:
    out = np.full(x.size, np.nan)
    out[n:] = (x[n:] - x[:-n]) / n
    return out


def _require_single(spec: Slope | Accel) -> None:
    if not isinstance(spec.of, IndicatorSpec | Output):
        raise IndicatorParamError(
            f"{spec.name}: `of` must be an indicator spec or output, got {spec.of!r}"
        )
    output_of(spec.of)


def _lookback_after(ref: Ref, bars: int) -> int | None:
    inner = spec_of(ref).lookback
    return None if inner is None else inner + bars


@dataclass(frozen=True, slots=True, eq=False)
class Slope(IndicatorSpec):
    """Mean change per bar of `of` over the last `n` bars."""

    name = "slope"
    of: Ref
    n: int = 1

    def check(self) -> None:
        _require_single(self)
        self._require_period("n", self.n)

    def make_key(self) -> str:
        return f"{self.name}_{self.n}_{output_of(self.of).key}"

    @property
    def lookback(self) -> int | None:
        return _lookback_after(self.of, self.n)

    def deps(self) -> tuple[IndicatorSpec, ...]:
        return (spec_of(self.of),)

    def incremental(self, ctx: StepContext) -> Step:
        return _difference_step(ctx, self.of, self.n)

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        return {VALUE: _difference(ctx.series(self.of), self.n)}


@dataclass(frozen=True, slots=True, eq=False)
class Accel(IndicatorSpec):
    """Change per bar of Slope(of, n) over the last `n` bars."""

    name = "accel"
    of: Ref
    n: int = 1

    def check(self) -> None:
        _require_single(self)
        self._require_period("n", self.n)

    def make_key(self) -> str:
        return f"{self.name}_{self.n}_{output_of(self.of).key}"

    @property
    def lookback(self) -> int | None:
        return _lookback_after(self.of, 2 * self.n)

    def deps(self) -> tuple[IndicatorSpec, ...]:
        return (Slope(self.of, self.n),)

    def incremental(self, ctx: StepContext) -> Step:
        return _difference_step(ctx, Slope(self.of, self.n), self.n)

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        return {VALUE: _difference(ctx.series(Slope(self.of, self.n)), self.n)}
