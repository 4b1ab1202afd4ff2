"""Momentum: RSI, rate of change, MACD and the stochastic oscillator, as TA-Lib computes them.

* RSI(n), Wilder: average gain and loss seeded by the plain mean of the first n changes, then
  avg = (avg * (n - 1) + change) / n; RSI = 100 * gain / (gain + loss), 0 when both are 0;
  first value at bar n.
* ROC(n) = (x / x[n bars ago] - 1) * 100, 0 when the old value is 0; first value at bar n.
* MACD(fast, slow, signal): line = EMA(fast) - EMA(slow), where the fast EMA is seeded at bar
  slow-1 (the SMA of the `fast` values ending there) so both start together, as TA-Lib's MACD
  does; signal = EMA(signal) of the line seeded by the mean of its first `signal` values;
  hist = line - signal. All three outputs start at bar slow + signal - 2.
* Stoch(k, smooth, d): fast %K = (close - lowest low) / (highest high - lowest low) * 100 over k
  bars (0 on a flat window), %K = SMA(smooth) of fast %K, %D = SMA(d) of %K. Both outputs start
  at bar k + smooth + d - 3, like TA-Lib's STOCH with SMA smoothing.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from app.domain.market import Bar
from app.indicators.averages import EMA, ema_series
from app.indicators.errors import IndicatorParamError
from app.indicators.ranges import Highest, Lowest
from app.indicators.recurrence import decay_filter
from app.indicators.rolling import window_sum
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

_FLAT = 1e-14  # TA-Lib treats a range within 1e-14 of its operands' magnitude as zero


def _nonzero(den: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(den with its zeros replaced by 1, 1.0 where den was non-zero else 0.0): lets a division
    by a possibly-zero denominator run branch-free, its zero cases masked out afterwards."""
    is_zero = (den == 0.0).astype(np.float64)
    return den + is_zero, 1.0 - is_zero


@dataclass(frozen=True, slots=True, eq=False)
class RSI(IndicatorSpec):
    """Relative strength index with Wilder smoothing (TA-Lib RSI)."""

    name = "rsi"
    period: int = 14
    source: Field = "close"

    def check(self) -> None:
        self._require_period("period", self.period)
        self._require_source(self.source)

    def params(self) -> tuple[object, ...]:
        return (self.period,)

    @property
    def lookback(self) -> int:
        return self.period

    def incremental(self, ctx: StepContext) -> Step:
        n, field = self.period, self.source
        keep = n - 1
        values, ready, slot, flag = ctx.values, ctx.ready, ctx.slot(), ctx.flag
        prior = NAN
        gain = loss = 0.0
        seen = 0

        def step(bar: Bar) -> None:
            nonlocal prior, gain, loss, seen
            x = getattr(bar, field)
            change = x - prior
            prior = x
            if seen == n:
                gain *= keep
                loss *= keep
                if change < 0.0:
                    loss -= change
                else:
                    gain += change
                gain /= n
                loss /= n
            elif change != change:  # first bar: no prior value
                return
            else:
                if change < 0.0:
                    loss -= change
                else:
                    gain += change
                seen += 1
                if seen < n:
                    return
                gain /= n
                loss /= n
                ready[flag] = True
            total = gain + loss
            values[slot] = 100.0 * (gain / total) if total != 0.0 else 0.0

        return step

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        x = ctx.bars.field(self.source)
        n = self.period
        out = np.full(x.size, np.nan)
        if x.size > n:
            change = np.diff(x)
            gains = np.maximum(change, 0.0)
            losses = np.maximum(-change, 0.0)
            keep = (n - 1) / n
            g0 = float(np.sum(gains[:n])) / n
            l0 = float(np.sum(losses[:n])) / n
            gain = np.concatenate(([g0], decay_filter(gains[n:] / n, keep, g0)))
            loss = np.concatenate(([l0], decay_filter(losses[n:] / n, keep, l0)))
            total, defined = _nonzero(gain + loss)
            out[n:] = 100.0 * (gain / total) * defined
        return {VALUE: out}


@dataclass(frozen=True, slots=True, eq=False)
class ROC(IndicatorSpec):
    """Rate of change in percent over `period` bars (TA-Lib ROC)."""

    name = "roc"
    period: int = 10
    source: Field = "close"

    def check(self) -> None:
        self._require_period("period", self.period)
        self._require_source(self.source)

    def params(self) -> tuple[object, ...]:
        return (self.period,)

    @property
    def lookback(self) -> int:
        return self.period

    def incremental(self, ctx: StepContext) -> Step:
        n, field = self.period, self.source
        values, ready, slot, flag = ctx.values, ctx.ready, ctx.slot(), ctx.flag
        window: deque[float] = deque(maxlen=n)

        def step(bar: Bar) -> None:
            x = getattr(bar, field)
            if len(window) < n:
                window.append(x)
                return
            old = window[0]
            window.append(x)
            values[slot] = (x / old - 1.0) * 100.0 if old != 0.0 else 0.0
            if not ready[flag]:
                ready[flag] = True

        return step

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        x = ctx.bars.field(self.source)
        n = self.period
        out = np.full(x.size, np.nan)
        if x.size > n:
            old, defined = _nonzero(x[:-n])
            out[n:] = (x[n:] / old - 1.0) * 100.0 * defined
        return {VALUE: out}


@dataclass(frozen=True, slots=True, eq=False)
class MACD(IndicatorSpec):
    """MACD line, signal and histogram, with TA-Lib's aligned seeding."""

    name = "macd"
    outputs = ("line", "signal", "hist")
    fast: int = 12
    slow: int = 26
    signal_period: int = 9
    source: Field = "close"

    def check(self) -> None:
        self._require_period("fast", self.fast)
        self._require_period("slow", self.slow)
        self._require_period("signal_period", self.signal_period)
        self._require_source(self.source)
        if self.fast >= self.slow:
            raise IndicatorParamError(f"macd: fast ({self.fast}) must be < slow ({self.slow})")

    def params(self) -> tuple[object, ...]:
        return (self.fast, self.slow, self.signal_period)

    @property
    def line(self) -> Output:
        return Output(self, "line")

    @property
    def signal(self) -> Output:
        return Output(self, "signal")

    @property
    def hist(self) -> Output:
        return Output(self, "hist")

    @property
    def lookback(self) -> int:
        return self.slow + self.signal_period - 2

    def deps(self) -> tuple[IndicatorSpec, ...]:
        return (
            EMA(self.fast, warmup=self.slow, source=self.source),
            EMA(self.slow, source=self.source),
        )

    def incremental(self, ctx: StepContext) -> Step:
        fast_spec, slow_spec = self.deps()
        g = self.signal_period
        k = 2.0 / (g + 1)
        values, ready, flag = ctx.values, ctx.ready, ctx.flag
        fast_at, fast_flag = ctx.source(fast_spec)
        slow_at, slow_flag = ctx.source(slow_spec)
        line_at, signal_at, hist_at = ctx.slot("line"), ctx.slot("signal"), ctx.slot("hist")
        signal = 0.0
        seen = 0

        def step(bar: Bar) -> None:
            nonlocal signal, seen
            if seen == g:
                line = values[fast_at] - values[slow_at]
                signal = (line - signal) * k + signal
            elif ready[fast_flag] and ready[slow_flag]:
                line = values[fast_at] - values[slow_at]
                signal += line
                seen += 1
                if seen < g:
                    return
                signal /= g
                ready[flag] = True
            else:
                return
            values[line_at] = line
            values[signal_at] = signal
            values[hist_at] = line - signal

        return step

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        fast_spec, slow_spec = self.deps()
        line = ctx.series(fast_spec) - ctx.series(slow_spec)
        signal = ema_series(line, self.signal_period, self.lookback)
        line[: self.lookback] = np.nan
        return {"line": line, "signal": signal, "hist": line - signal}


@dataclass(frozen=True, slots=True, eq=False)
class Stoch(IndicatorSpec):
    """Slow stochastic %K and %D with SMA smoothing (TA-Lib STOCH, matype 0)."""

    name = "stoch"
    outputs = ("k", "d")
    k_period: int = 14
    k_smooth: int = 3
    d_period: int = 3

    def check(self) -> None:
        self._require_period("k_period", self.k_period)
        self._require_period("k_smooth", self.k_smooth)
        self._require_period("d_period", self.d_period)

    def params(self) -> tuple[object, ...]:
        return (self.k_period, self.k_smooth, self.d_period)

    @property
    def k(self) -> Output:
        return Output(self, "k")

    @property
    def d(self) -> Output:
        return Output(self, "d")

    @property
    def lookback(self) -> int:
        return self.k_period + self.k_smooth + self.d_period - 3

    def deps(self) -> tuple[IndicatorSpec, ...]:
        return (Highest(self.k_period, "high"), Lowest(self.k_period, "low"))

    def incremental(self, ctx: StepContext) -> Step:
        high_spec, low_spec = self.deps()
        ks, dn = self.k_smooth, self.d_period
        values, ready, flag = ctx.values, ctx.ready, ctx.flag
        hi_at, hi_flag = ctx.source(high_spec)
        lo_at, lo_flag = ctx.source(low_spec)
        k_at, d_at = ctx.slot("k"), ctx.slot("d")
        fast_ring: deque[float] = deque([0.0] * ks, maxlen=ks)
        slow_ring: deque[float] = deque([0.0] * dn, maxlen=dn)
        fast_sum = slow_sum = 0.0
        fast_seen = slow_seen = 0

        def step(bar: Bar) -> None:
            nonlocal fast_sum, slow_sum, fast_seen, slow_seen
            if slow_seen < dn and not (ready[hi_flag] and ready[lo_flag]):
                return
            hh = values[hi_at]
            ll = values[lo_at]
            span = hh - ll
            scale = (hh if hh >= 0.0 else -hh) + (ll if ll >= 0.0 else -ll)
            fast_k = (bar.close - ll) / span * 100.0 if span > _FLAT * scale else 0.0
            fast_sum += fast_k - fast_ring[0]
            fast_ring.append(fast_k)
            if fast_seen < ks:
                fast_seen += 1
                if fast_seen < ks:
                    return
            slow_k = fast_sum / ks
            slow_sum += slow_k - slow_ring[0]
            slow_ring.append(slow_k)
            if slow_seen < dn:
                slow_seen += 1
                if slow_seen < dn:
                    return
                ready[flag] = True
            values[k_at] = slow_k
            values[d_at] = slow_sum / dn

        return step

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        high_spec, low_spec = self.deps()
        hh = ctx.series(high_spec)
        ll = ctx.series(low_spec)
        close = ctx.bars.close
        size, start = close.size, self.k_period - 1
        k_out = np.full(size, np.nan)
        d_out = np.full(size, np.nan)
        if size > self.lookback:
            span = hh[start:] - ll[start:]
            is_flat = (np.abs(span) <= _FLAT * (np.abs(hh[start:]) + np.abs(ll[start:]))).astype(
                float
            )
            fast_k = (close[start:] - ll[start:]) / (span + is_flat) * 100.0
            fast_k *= 1.0 - is_flat
            slow_k = window_sum(fast_k, self.k_smooth) / self.k_smooth
            skip = self.k_smooth - 1
            slow_d = window_sum(slow_k[skip:], self.d_period) / self.d_period
            k_out[start + skip :] = slow_k[skip:]
            d_out[start + skip :] = slow_d
            k_out[: self.lookback] = np.nan
        return {"k": k_out, "d": d_out}
