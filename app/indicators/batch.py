"""Batch evaluation: every output of a spec over a whole BarArrays at once (numpy, vectorized).

A BatchRun evaluates specs over one series, each at most once: dependencies are evaluated first
and shared (MACD's EMAs, Bollinger's SMA and standard deviation), the New York trading-day index
is built once. Results are read-only arrays, so a cache can hand them out safely.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from app.indicators.arrays import BarArrays
from app.indicators.plan import IndicatorPlan
from app.indicators.spec import FloatArray, IndicatorSpec, Ref, output_of, spec_of
from app.indicators.trading_day import DayIndex, NewYorkCalendar

Outputs = Mapping[str, FloatArray]
Known = Callable[[IndicatorSpec], Outputs | None]


class BatchRun:
    """Evaluates specs over one series; the BatchContext their batch forms read."""

    __slots__ = ("_bars", "_calendar", "_days", "_known", "_results", "computed")

    def __init__(
        self,
        bars: BarArrays,
        *,
        calendar: NewYorkCalendar | None = None,
        known: Known | None = None,
    ) -> None:
        self._bars = bars
        self._calendar = calendar if calendar is not None else NewYorkCalendar()
        self._known = known
        self._days: DayIndex | None = None
        self._results: dict[IndicatorSpec, Outputs] = {}
        self.computed: list[IndicatorSpec] = []
        """Specs this run evaluated itself (not found in `known`), in evaluation order."""

    @property
    def bars(self) -> BarArrays:
        return self._bars

    @property
    def days(self) -> DayIndex:
        if self._days is None:
            self._days = self._calendar.index(self._bars.ts)
        return self._days

    def outputs(self, spec: IndicatorSpec) -> Outputs:
        """All outputs of `spec` (and, first, of everything it depends on)."""
        done = self._results.get(spec)
        if done is not None:
            return done
        for dep in IndicatorPlan.of(spec).order:
            if dep not in self._results:
                self._results[dep] = self._evaluate(dep)
        return self._results[spec]

    def _evaluate(self, spec: IndicatorSpec) -> Outputs:
        known = self._known(spec) if self._known is not None else None
        if known is not None:
            return known
        raw = spec.batch(self)
        if set(raw) != set(spec.outputs):
            raise RuntimeError(f"{spec.key} batch returned {sorted(raw)}, not {spec.outputs}")
        frozen: dict[str, FloatArray] = {}
        for name in spec.outputs:
            column = np.ascontiguousarray(raw[name], dtype=np.float64)
            column.flags.writeable = False
            frozen[name] = column
        self.computed.append(spec)
        return frozen

    def series(self, ref: Ref) -> FloatArray:
        out = output_of(ref)
        return self.outputs(out.spec)[out.name]

    def results(self) -> dict[IndicatorSpec, Outputs]:
        """Everything evaluated or reused so far, dependencies included."""
        return dict(self._results)


def compute_outputs(
    spec: IndicatorSpec, bars: BarArrays, *, calendar: NewYorkCalendar | None = None
) -> dict[str, FloatArray]:
    """Every output of `spec` over `bars`, by output name (NaN where not ready)."""
    return dict(BatchRun(bars, calendar=calendar).outputs(spec))


def compute_batch(
    ref: Ref, bars: BarArrays, *, calendar: NewYorkCalendar | None = None
) -> FloatArray:
    """One output over `bars`: a single-output spec, or e.g. `MACD(12, 26, 9).signal`."""
    out = output_of(ref)
    return BatchRun(bars, calendar=calendar).outputs(spec_of(ref))[out.name]
