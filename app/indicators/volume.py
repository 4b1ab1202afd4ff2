"""Volume indicators: OBV, session VWAP and its bands, relative volume.

* OBV: starts at the first bar's volume, then adds the volume on an up close and subtracts it on
  a down close (TA-Lib OBV).
* VWAP: volume-weighted typical price (high + low + close) / 3 since the first bar of the bar's
  New York trading date, so it resets when a new date starts (pre-market included). NaN while
  the date has traded no volume. Sums are of deviations from the date's first typical price,
  which keeps them small and exact for a flat session.
* VWAPBands(mult): VWAP +/- mult * the volume-weighted standard deviation of the typical price
  around it, over the same session; outputs upper, lower.
* RelVolume(period, days): the bar's volume over a baseline. Where history allows, the baseline
  is the mean volume of the bars at the same time of day (same offset from New York midnight,
  so bars are expected on a regular grid, as the bar builder's buckets are) on the previous
  `days` dates that had one; otherwise the mean volume of the previous `period`
  bars (SMA(period) of volume as of the prior bar). NaN when the baseline is 0. Ready once
  either baseline exists, so it depends on timestamps (lookback is None).
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from dataclasses import dataclass

import numpy as np

from app.domain.market import Bar
from app.indicators.averages import SMA
from app.indicators.blocks import segment_cumsum
from app.indicators.spec import (
    NAN,
    VALUE,
    BatchContext,
    FloatArray,
    IndicatorSpec,
    Output,
    Step,
    StepContext,
)


@dataclass(frozen=True, slots=True, eq=False)
class OBV(IndicatorSpec):
    """On-balance volume (TA-Lib OBV)."""

    name = "obv"

    def incremental(self, ctx: StepContext) -> Step:
        values, ready, slot, flag = ctx.values, ctx.ready, ctx.slot(), ctx.flag
        prior = NAN
        obv = 0.0

        def step(bar: Bar) -> None:
            nonlocal prior, obv
            close = bar.close
            if close > prior:
                obv += bar.volume
            elif close < prior:
                obv -= bar.volume
            elif prior != prior:
                obv = float(bar.volume)
                ready[flag] = True
            prior = close
            values[slot] = obv

        return step

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        close, volume = ctx.bars.close, ctx.bars.volume
        out = np.empty(close.size)
        if close.size:
            out[0] = volume[0]
            np.cumsum(np.sign(np.diff(close)) * volume[1:], out=out[1:])
            out[1:] += volume[0]
        return {VALUE: out}


def _session_sums(ctx: BatchContext) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per bar: session shift (first typical price of the date), cumulative volume, cumulative
    volume * deviation and cumulative volume * deviation^2, all restarting each date."""
    bars, first = ctx.bars, ctx.days.first
    typical = (bars.high + bars.low + bars.close) / 3.0
    shift = typical[first]
    typical -= shift
    sums = np.empty((3, typical.size))
    sums[0] = bars.volume
    np.multiply(bars.volume, typical, out=sums[1])
    np.multiply(sums[1], typical, out=sums[2])
    segment_cumsum(sums, first)
    return shift, sums[0], sums[1], sums[2]


def _per_volume(total: FloatArray, volume: FloatArray) -> FloatArray:
    """total / volume, NaN where no volume has traded."""
    idle = volume == 0.0
    out: FloatArray = total / (volume + idle)
    out[idle] = np.nan
    return out


@dataclass(frozen=True, slots=True, eq=False)
class VWAP(IndicatorSpec):
    """Session VWAP of the typical price, reset at each New York trading date."""

    name = "vwap"

    def incremental(self, ctx: StepContext) -> Step:
        values, ready, slot, flag = ctx.values, ctx.ready, ctx.slot(), ctx.flag
        calendar = ctx.calendar
        day_start = day_end = 0
        shift = volume = weighted = 0.0

        def step(bar: Bar) -> None:
            nonlocal day_start, day_end, shift, volume, weighted
            ts = bar.ts_ns
            typical = (bar.high + bar.low + bar.close) / 3.0
            if ts >= day_end or ts < day_start:
                day_start, _, _, day_end = calendar.bounds(ts)
                shift, volume, weighted = typical, 0.0, 0.0
                ready[flag] = True
            v = bar.volume
            volume += v
            weighted += v * (typical - shift)
            values[slot] = shift + weighted / volume if volume > 0.0 else NAN

        return step

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        shift, volume, weighted, _ = _session_sums(ctx)
        return {VALUE: shift + _per_volume(weighted, volume)}


@dataclass(frozen=True, slots=True, eq=False)
class VWAPBands(IndicatorSpec):
    """VWAP +/- mult volume-weighted standard deviations of the typical price (per session)."""

    name = "vwap_bands"
    outputs = ("upper", "lower")
    mult: float = 2.0

    def check(self) -> None:
        object.__setattr__(self, "mult", self._require_positive("mult", self.mult))

    def params(self) -> tuple[object, ...]:
        return (self.mult,)

    @property
    def upper(self) -> Output:
        return Output(self, "upper")

    @property
    def lower(self) -> Output:
        return Output(self, "lower")

    def deps(self) -> tuple[IndicatorSpec, ...]:
        return (VWAP(),)

    def incremental(self, ctx: StepContext) -> Step:
        mult = self.mult
        values, ready, flag = ctx.values, ctx.ready, ctx.flag
        center_at, _ = ctx.source(VWAP())
        up_at, low_at = ctx.slot("upper"), ctx.slot("lower")
        calendar = ctx.calendar
        day_start = day_end = 0
        shift = volume = weighted = squares = 0.0

        def step(bar: Bar) -> None:
            nonlocal day_start, day_end, shift, volume, weighted, squares
            ts = bar.ts_ns
            typical = (bar.high + bar.low + bar.close) / 3.0
            if ts >= day_end or ts < day_start:
                day_start, _, _, day_end = calendar.bounds(ts)
                shift, volume, weighted, squares = typical, 0.0, 0.0, 0.0
                ready[flag] = True
            v = bar.volume
            dev = typical - shift
            volume += v
            weighted += v * dev
            squares += v * dev * dev
            if volume > 0.0:
                mean = weighted / volume
                var = squares / volume - mean * mean
                width = mult * math.sqrt(var) if var > 0.0 else 0.0
                center = values[center_at]
                values[up_at] = center + width
                values[low_at] = center - width
            else:
                values[up_at] = values[low_at] = NAN

        return step

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        _, volume, weighted, squares = _session_sums(ctx)
        center = ctx.series(VWAP())
        mean = _per_volume(weighted, volume)
        var = _per_volume(squares, volume)
        var -= mean * mean
        width = self.mult * np.sqrt(np.maximum(var, 0.0))
        return {"upper": center + width, "lower": center - width}


class _SameTime:
    """Volumes of the last `days` bars at each time of day, and their sums, per slot.

    A slot is one bar length (the first bar's) after the date's start; slots are held from the
    earliest one seen, so the hours before a symbol's first bar cost nothing. A slot's last
    `days` volumes sit in one flat ring buffer, so a symbol costs about 25 KB for a regular
    session of one-minute bars instead of an object per minute. A bar that starts off the slot
    grid (irregular bar times) gets a ring of its own, keyed by its exact offset."""

    __slots__ = ("_counts", "_days", "_first", "_heads", "_odd", "_rings", "_totals", "_unit_ns")

    def __init__(self, days: int) -> None:
        self._days = days
        self._unit_ns = 0
        self._first = 0  # the slot of index 0 in the arrays
        self._rings = array("d")
        self._totals = array("d")
        self._counts = array("l")
        self._heads = array("l")
        self._odd: dict[int, tuple[deque[float], list[float]]] = {}

    def push(self, offset_ns: int, interval_s: int, volume: float) -> float:
        """Record this bar's volume at its time of day; return the mean volume of the last
        `days` dates at that time, or NaN while fewer are known."""
        if not self._unit_ns:
            self._unit_ns = interval_s * 1_000_000_000
            self._first = offset_ns // self._unit_ns
        slot, off_grid = divmod(offset_ns, self._unit_ns)
        if off_grid or slot < 0:
            return self._push_odd(offset_ns, volume)
        if slot < self._first:
            self._prepend(self._first - slot)
        k = slot - self._first
        days, totals = self._days, self._totals
        if k >= len(totals):
            grow = k + 1 - len(totals)
            totals.extend([0.0] * grow)
            self._counts.extend([0] * grow)
            self._heads.extend([0] * grow)
            self._rings.extend([0.0] * (grow * days))
        filled = self._counts[k]
        if filled == days:
            base = totals[k] / days
            at = k * days + self._heads[k]
            totals[k] += volume - self._rings[at]
            self._rings[at] = volume
            self._heads[k] = (self._heads[k] + 1) % days
            return base
        totals[k] += volume
        self._rings[k * days + filled] = volume
        self._counts[k] = filled + 1
        return NAN

    def _prepend(self, slots: int) -> None:
        """Make room for `slots` earlier slots than any held (a pre-market bar on a later date)."""
        self._totals = array("d", bytes(8 * slots)) + self._totals
        self._counts = array("l", bytes(self._counts.itemsize * slots)) + self._counts
        self._heads = array("l", bytes(self._heads.itemsize * slots)) + self._heads
        self._rings = array("d", bytes(8 * slots * self._days)) + self._rings
        self._first -= slots

    def _push_odd(self, offset_ns: int, volume: float) -> float:
        entry = self._odd.get(offset_ns)
        if entry is None:
            entry = self._odd[offset_ns] = (deque(maxlen=self._days), [0.0])
        ring, total = entry
        if len(ring) == self._days:
            base = total[0] / self._days
            total[0] += volume - ring[0]
        else:
            base = NAN
            total[0] += volume
        ring.append(volume)
        return base


@dataclass(frozen=True, slots=True, eq=False)
class RelVolume(IndicatorSpec):
    """Volume relative to the same time of day on previous dates, else to recent bars."""

    name = "rvol"
    period: int = 20
    days: int = 5

    def check(self) -> None:
        self._require_period("period", self.period)
        self._require_period("days", self.days)

    def params(self) -> tuple[object, ...]:
        return (self.period, self.days)

    @property
    def lookback(self) -> None:
        return None

    def deps(self) -> tuple[IndicatorSpec, ...]:
        return (SMA(self.period, "volume"),)

    def incremental(self, ctx: StepContext) -> Step:
        values, ready, slot, flag = ctx.values, ctx.ready, ctx.slot(), ctx.flag
        avg_at, _ = ctx.source(SMA(self.period, "volume"))
        calendar = ctx.calendar
        day_start = day_end = 0
        prior_avg = NAN
        history = _SameTime(self.days)

        def step(bar: Bar) -> None:
            nonlocal day_start, day_end, prior_avg
            ts = bar.ts_ns
            if ts >= day_end or ts < day_start:
                day_start, _, _, day_end = calendar.bounds(ts)
            volume = bar.volume
            base = history.push(ts - day_start, bar.interval_s, volume)
            if base != base:
                base = prior_avg
            prior_avg = values[avg_at]  # NaN until the average is ready
            if base != base:
                return
            values[slot] = volume / base if base > 0.0 else NAN
            if not ready[flag]:
                ready[flag] = True

        return step

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        volume = ctx.bars.volume
        size = volume.size
        if size == 0:
            return {VALUE: np.empty(0)}
        prior_avg = np.full(size, np.nan)
        prior_avg[1:] = ctx.series(SMA(self.period, "volume"))[:-1]
        offset = ctx.bars.ts - ctx.days.start_ns
        order = np.argsort(offset, kind="stable")
        sorted_offset = offset[order]
        starts = np.flatnonzero(np.diff(sorted_offset, prepend=sorted_offset[0] - 1))
        sizes = np.diff(starts, append=size)
        rank = np.arange(size) - np.repeat(starts, sizes)
        running = np.concatenate(([0.0], np.cumsum(volume[order])))
        rows = np.flatnonzero(rank >= self.days)
        tod = np.full(size, np.nan)
        tod[order[rows]] = (running[rows] - running[rows - self.days]) / self.days
        base = np.where(np.isnan(tod), prior_avg, tod)
        empty = base <= 0.0
        out = volume / (base + empty)
        out[empty] = np.nan
        return {VALUE: out}
