"""ADX: Wilder's average directional index, step for step as TA-Lib computes it.

Per bar, +DM = high - prior high and -DM = prior low - low, keeping only the larger one when it
is positive. +DM, -DM and the true range are summed over bars 1..n-1, then smoothed Wilder's way
(s = s - s / n + value) from bar n on; +DI and -DI are 100 * smoothed DM / smoothed TR and
DX = 100 * |+DI - -DI| / (+DI + -DI). ADX is the mean DX of bars n..2n-1 (first value at bar
2n-1), then adx = (adx * (n - 1) + dx) / n. A bar whose DX is undefined (zero range, or zero
directional movement) leaves ADX unchanged, as in TA-Lib.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.domain.market import Bar
from app.indicators.ranges import TrueRange
from app.indicators.recurrence import decay_filter, gated_filter
from app.indicators.spec import (
    NAN,
    VALUE,
    BatchContext,
    FloatArray,
    IndicatorSpec,
    Step,
    StepContext,
)


@dataclass(frozen=True, slots=True, eq=False)
class ADX(IndicatorSpec):
    """Average directional index over `period` bars (TA-Lib ADX)."""

    name = "adx"
    period: int = 14

    def check(self) -> None:
        self._require_period("period", self.period)

    def params(self) -> tuple[object, ...]:
        return (self.period,)

    @property
    def lookback(self) -> int:
        return 2 * self.period - 1

    def deps(self) -> tuple[IndicatorSpec, ...]:
        return (TrueRange(),)

    def incremental(self, ctx: StepContext) -> Step:
        n = self.period
        keep = n - 1
        values, ready, slot, flag = ctx.values, ctx.ready, ctx.slot(), ctx.flag
        tr_at, _ = ctx.source(TrueRange())
        prior_high = prior_low = NAN
        plus_dm = minus_dm = smooth_tr = sum_dx = adx = 0.0
        bar_index = 0

        def step(bar: Bar) -> None:
            nonlocal prior_high, prior_low, plus_dm, minus_dm, smooth_tr, sum_dx, adx, bar_index
            high, low = bar.high, bar.low
            up = high - prior_high
            down = prior_low - low
            prior_high, prior_low = high, low
            i = bar_index
            bar_index += 1
            if i == 0:
                return
            plus = minus = 0.0
            if down > 0.0 and up < down:
                minus = down
            elif up > 0.0 and up > down:
                plus = up
            tr = values[tr_at]
            if i < n:
                plus_dm += plus
                minus_dm += minus
                smooth_tr += tr
                return
            plus_dm = plus_dm - plus_dm / n + plus
            minus_dm = minus_dm - minus_dm / n + minus
            smooth_tr = smooth_tr - smooth_tr / n + tr
            dx = NAN
            if smooth_tr != 0.0:
                minus_di = 100.0 * (minus_dm / smooth_tr)
                plus_di = 100.0 * (plus_dm / smooth_tr)
                total = minus_di + plus_di
                if total != 0.0:
                    spread = minus_di - plus_di
                    dx = 100.0 * ((spread if spread >= 0.0 else -spread) / total)
            if i >= 2 * n:
                if dx == dx:
                    adx = (adx * keep + dx) / n
                values[slot] = adx
                return
            if dx == dx:
                sum_dx += dx
            if i == 2 * n - 1:
                adx = sum_dx / n
                values[slot] = adx
                ready[flag] = True

        return step

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        n = self.period
        high, low = ctx.bars.high, ctx.bars.low
        tr = ctx.series(TrueRange())
        out = np.full(high.size, np.nan)
        if high.size < 2 * n:
            return {VALUE: out}
        up = high[1:] - high[:-1]
        down = low[:-1] - low[1:]
        is_minus = (down > 0.0) & (up < down)
        is_plus = ~is_minus & (up > 0.0) & (up > down)
        minus = down * is_minus
        plus = up * is_plus
        moves = tr[1:]
        keep = 1.0 - 1.0 / n
        head = n - 1
        smooth_plus = decay_filter(plus[head:], keep, float(np.sum(plus[:head])))
        smooth_minus = decay_filter(minus[head:], keep, float(np.sum(minus[:head])))
        smooth_tr = decay_filter(moves[head:], keep, float(np.sum(moves[:head])))
        no_range = (smooth_tr == 0.0).astype(np.float64)
        smooth_tr += no_range
        minus_di = 100.0 * (smooth_minus / smooth_tr)
        plus_di = 100.0 * (smooth_plus / smooth_tr)
        total = minus_di + plus_di
        no_move = (total == 0.0).astype(np.float64)
        valid = (1.0 - no_range) * (1.0 - no_move)
        total += no_move
        dx = 100.0 * (np.abs(minus_di - plus_di) / total) * valid
        adx0 = float(np.sum(dx[:n])) / n
        out[2 * n - 1] = adx0
        coef = 1.0 - valid[n:] / n
        out[2 * n :] = gated_filter(dx[n:] / n, coef, adx0)
        return {VALUE: out}
