"""A synthetic small-cap tape: a deterministic generator and a clock-paced feed around it.

Each symbol is an independent process driven by its own seeded random stream: trades arrive as
a Poisson process whose rate changes with volume regimes and bursts; the price is a geometric
Brownian motion sampled at trade times, with a strong drift and more volatility during a burst
(the occasional fast mover). Symbols are merged by (time, symbol index), so the sequence of
ticks depends only on the seed, never on how the tape is read.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

from app.domain.market import Quote, Tick, TickBatch
from app.ports.clock import Clock

_NS = 1_000_000_000
_US = 1_000
_NEVER = 2**62
_SESSION_S = 23_400.0
_CENT = 0.01
_SUB_PENNY = 0.0001
_MIN_LOG_PRICE = math.log(0.01)


@dataclass(frozen=True, slots=True)
class SyntheticConfig:
    """Shape of the synthetic tape; every range is (low, high) and drawn per symbol."""

    seed: int = 1
    symbols: int = 200
    price_range: tuple[float, float] = (1.0, 20.0)
    trade_rate_range: tuple[float, float] = (0.05, 1.5)
    daily_vol_range: tuple[float, float] = (0.03, 0.12)
    burst_rate_per_hour: float = 0.05
    burst_duration_s: tuple[float, float] = (120.0, 480.0)
    burst_move_range: tuple[float, float] = (0.08, 0.40)
    burst_up_prob: float = 0.7
    burst_rate_mult: float = 8.0
    regime_mean_s: float = 1_800.0
    regime_sigma: float = 0.5
    odd_lot_prob: float = 0.3
    lot_tail_alpha: float = 1.5
    max_lots: int = 2_000
    quote_prob: float = 0.4
    spread_bps: float = 15.0

    def __post_init__(self) -> None:
        ranges = (
            self.price_range,
            self.trade_rate_range,
            self.daily_vol_range,
            self.burst_duration_s,
            self.burst_move_range,
        )
        if any(not 0.0 < low <= high for low, high in ranges) or self.burst_move_range[1] >= 1:
            raise ValueError("ranges must be positive (low <= high); burst moves below 100%")
        if self.symbols < 1 or self.max_lots < 1 or self.regime_mean_s <= 0:
            raise ValueError("symbols, max_lots and regime_mean_s must be positive")
        probabilities = (self.burst_up_prob, self.odd_lot_prob, self.quote_prob)
        if any(not 0.0 <= p <= 1.0 for p in probabilities):
            raise ValueError("probabilities must lie in [0, 1]")


def symbol_name(index: int) -> str:
    """'SYN' + bijective base-26 letters: SYNA..SYNZ, SYNAA, ... (stable whatever the count)."""
    letters = ""
    n = index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return "SYN" + letters


def _tick_size(price: float) -> float:
    return _CENT if price >= 1.0 else _SUB_PENNY


def _on_tick(units: int, tick: float) -> float:
    return round(units * tick, 2 if tick == _CENT else 4)


class _SymbolPath:
    """One symbol's trade process; `pending` is its next print, computed ahead."""

    __slots__ = (
        "_base_rate",
        "_burst_end",
        "_burst_size_mult",
        "_cfg",
        "_drift",
        "_log_price",
        "_next_burst",
        "_next_regime",
        "_rate",
        "_rate_mult",
        "_rng",
        "_seq",
        "_sigma",
        "_sigma_base",
        "_size_mult",
        "_t",
        "pending",
        "pending_ts",
        "symbol",
    )

    def __init__(self, cfg: SyntheticConfig, *, index: int, start_ns: int) -> None:
        rng = random.Random(f"synthetic/{cfg.seed}/{index}")  # noqa: S311 (a simulation)
        self._rng = rng
        self._cfg = cfg
        self.symbol = symbol_name(index)
        low, high = (math.log(x) for x in cfg.price_range)
        start = rng.lognormvariate((low + high) / 2, (high - low) / 4)
        self._log_price = math.log(min(max(start, cfg.price_range[0]), cfg.price_range[1]))
        rate_low, rate_high = (math.log(x) for x in cfg.trade_rate_range)
        self._base_rate = math.exp(rng.uniform(rate_low, rate_high))
        self._sigma_base = rng.uniform(*cfg.daily_vol_range) / math.sqrt(_SESSION_S)
        self._sigma = self._sigma_base
        self._drift = 0.0
        self._rate_mult = 1.0
        self._size_mult = 1.0
        self._burst_size_mult = 1.0
        self._rate = self._base_rate
        self._t = start_ns
        self._seq = 0
        self._burst_end = _NEVER
        self._next_burst = start_ns + self._wait_ns(cfg.burst_rate_per_hour / 3_600.0)
        self._next_regime = start_ns + self._wait_ns(1.0 / cfg.regime_mean_s)
        self.pending_ts = start_ns
        self.pending: tuple[Tick, Quote | None] = self._next_print()

    def advance(self) -> None:
        self.pending = self._next_print()

    def _wait_ns(self, rate: float) -> int:
        if rate <= 0.0:
            return _NEVER
        return max(_US, int(self._rng.expovariate(rate) * 1e6) * _US)

    def _diffuse_to(self, t_ns: int) -> None:
        dt = (t_ns - self._t) / _NS
        if dt > 0.0:
            sigma = self._sigma
            shock = sigma * math.sqrt(dt) * self._rng.gauss(0.0, 1.0)
            step = (self._drift - 0.5 * sigma * sigma) * dt + shock
            self._log_price = max(self._log_price + step, _MIN_LOG_PRICE)
        self._t = t_ns

    def _next_print(self) -> tuple[Tick, Quote | None]:
        while True:
            candidate = self._t + self._wait_ns(self._rate)
            change = min(self._burst_end, self._next_burst, self._next_regime)
            if candidate < change:
                self._diffuse_to(candidate)
                break
            self._diffuse_to(change)
            self._apply_change(change)
        self._seq += 1
        ts = self._t
        price = self._price()
        tick = Tick(self.symbol, ts, price, self._trade_size(), self._seq)
        quote = self._quote(ts, price) if self._rng.random() < self._cfg.quote_prob else None
        self.pending_ts = ts
        return tick, quote

    def _apply_change(self, now: int) -> None:
        cfg, rng = self._cfg, self._rng
        if now == self._burst_end:
            self._burst_end = _NEVER
            self._drift, self._sigma, self._burst_size_mult = 0.0, self._sigma_base, 1.0
            self._next_burst = now + self._wait_ns(cfg.burst_rate_per_hour / 3_600.0)
        elif now == self._next_burst:
            duration = rng.uniform(*cfg.burst_duration_s)
            move = rng.uniform(*cfg.burst_move_range)
            log_move = math.log1p(move) if rng.random() < cfg.burst_up_prob else math.log1p(-move)
            self._drift = log_move / duration
            self._sigma = 2.0 * self._sigma_base
            self._burst_size_mult = 2.0
            self._burst_end = now + int(duration * 1e6) * _US
            self._next_burst = _NEVER
        else:
            spread = cfg.regime_sigma
            self._rate_mult = rng.lognormvariate(-0.5 * spread * spread, spread)
            self._size_mult = rng.lognormvariate(-0.5 * spread * spread, spread)
            self._next_regime = now + self._wait_ns(1.0 / cfg.regime_mean_s)
        in_burst = self._burst_end != _NEVER
        self._rate = self._base_rate * self._rate_mult * (cfg.burst_rate_mult if in_burst else 1.0)

    def _price(self) -> float:
        raw = math.exp(self._log_price)
        tick = _tick_size(raw)
        return _on_tick(max(1, round(raw / tick)), tick)

    def _trade_size(self) -> int:
        cfg, rng = self._cfg, self._rng
        if rng.random() < cfg.odd_lot_prob:
            return rng.randint(1, 99)
        lots = rng.paretovariate(cfg.lot_tail_alpha) * self._size_mult * self._burst_size_mult
        return min(cfg.max_lots, max(1, int(lots))) * 100

    def _quote(self, ts: int, price: float) -> Quote:
        rng = self._rng
        tick = _tick_size(price)
        width = price * self._cfg.spread_bps / 10_000.0 * (0.5 + rng.random())
        spread = max(1, round(width / tick))
        bid_units = max(1, round(price / tick) - rng.randint(0, spread))
        bid = _on_tick(bid_units, tick)
        ask = _on_tick(bid_units + spread, tick)
        return Quote(self.symbol, ts, bid, ask, 100 * rng.randint(1, 30), 100 * rng.randint(1, 30))


class SyntheticTape:
    """The merged tape of all symbols, read forward in time; same seed, same ticks."""

    __slots__ = ("_heap", "_paths")

    def __init__(self, config: SyntheticConfig, start_ns: int) -> None:
        self._paths = [
            _SymbolPath(config, index=i, start_ns=start_ns) for i in range(config.symbols)
        ]
        self._heap = [(path.pending_ts, i) for i, path in enumerate(self._paths)]
        heapq.heapify(self._heap)

    @property
    def symbols(self) -> list[str]:
        return [path.symbol for path in self._paths]

    def batch_until(self, ts_ns: int, *, max_ticks: int | None = None) -> TickBatch:
        """The next ticks with ts <= ts_ns (at most max_ticks) and the quotes printed with them."""
        ticks: list[Tick] = []
        quotes: list[Quote] = []
        heap, paths = self._heap, self._paths
        limit = max_ticks if max_ticks is not None else _NEVER
        while heap[0][0] <= ts_ns and len(ticks) < limit:
            index = heap[0][1]
            path = paths[index]
            tick, quote = path.pending
            ticks.append(tick)
            if quote is not None:
                quotes.append(quote)
            path.advance()
            heapq.heapreplace(heap, (path.pending_ts, index))
        return TickBatch(ticks=ticks, quotes=quotes)

    def ticks_until(self, ts_ns: int) -> list[Tick]:
        """The next ticks with ts <= ts_ns; their quotes are consumed and dropped."""
        return self.batch_until(ts_ns).ticks


class SyntheticFeed:
    """A MarketDataFeed over a SyntheticTape, paced by a Clock (a fast LiveClock replays 30x)."""

    __slots__ = ("_clock", "_closed", "_end_ns", "_max_batch", "_poll_s", "_tape")

    def __init__(
        self,
        tape: SyntheticTape,
        clock: Clock,
        *,
        poll_s: float = 0.02,
        end_ns: int | None = None,
        max_batch: int = 10_000,
    ) -> None:
        if poll_s <= 0 or max_batch < 1:
            raise ValueError("poll_s and max_batch must be positive")
        self._tape = tape
        self._clock = clock
        self._poll_s = poll_s
        self._end_ns = end_ns
        self._max_batch = max_batch
        self._closed = False

    async def stream(self) -> AsyncIterator[TickBatch]:
        """Batches of everything the tape printed up to the clock's now, until closed or ended."""
        while not self._closed:
            now = self._clock.now_ns()
            ended = self._end_ns is not None and now >= self._end_ns
            limit = min(now, self._end_ns) if self._end_ns is not None else now
            batch = self._tape.batch_until(limit, max_ticks=self._max_batch)
            if batch.ticks:
                yield batch
                if len(batch.ticks) == self._max_batch:
                    continue
            if ended:
                return
            await asyncio.sleep(self._poll_s)

    async def close(self) -> None:
        self._closed = True
