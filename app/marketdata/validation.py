"""The edge check for market data: clean ticks and quotes pass, bad ones are counted and kept aside.

Nothing derived from a quarantined item reaches the core: the per-symbol state that later checks
compare against (last time, last price, recent prints) moves only on accepted ticks.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

import msgspec

from app.domain.market import Quote, Tick, TickBatch
from app.marketdata.recent_prints import RecentPrints

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class Reason(enum.StrEnum):
    """Why an item was quarantined; the keys of `TickValidator.counts`."""

    UNKNOWN_SYMBOL = "unknown_symbol"
    NON_FINITE = "non_finite"
    NON_POSITIVE = "non_positive"
    CROSSED = "crossed"
    ZERO_SIZE = "zero_size"
    ABSURD_SIZE = "absurd_size"
    BAD_SEQ = "bad_seq"
    FUTURE = "future"
    DUPLICATE = "duplicate"
    OUT_OF_ORDER = "out_of_order"
    JUMP = "jump"


@dataclass(frozen=True, slots=True)
class ValidationConfig:
    """Limits for `TickValidator`.

    A print more than `jump_pct` away from the symbol's last accepted price is a jump. After
    `jump_confirmations` consecutive jump prints within `confirm_band_pct` of the first of them,
    the new level is believed: the symbol re-anchors there (a gap event) and later prints pass.
    """

    max_size: int = 5_000_000
    jump_pct: float = 20.0
    jump_confirmations: int = 3
    confirm_band_pct: float = 5.0
    future_tolerance_ns: int = 2_000_000_000
    universe: frozenset[str] | None = None
    dedup_window: int = 256
    quarantine_size: int = 10_000

    def __post_init__(self) -> None:
        if self.max_size <= 0 or self.dedup_window <= 0 or self.quarantine_size <= 0:
            raise ValueError("max_size, dedup_window and quarantine_size must be positive")
        if not (self.jump_pct > 0 and self.confirm_band_pct > 0):
            raise ValueError("jump_pct and confirm_band_pct must be positive")
        if self.jump_confirmations < 1 or self.future_tolerance_ns < 0:
            raise ValueError("jump_confirmations must be >= 1 and future_tolerance_ns >= 0")


class GapEvent(msgspec.Struct, frozen=True):
    """A symbol's price moved to a new level without a corporate action, and the tape agreed."""

    symbol: str
    ts_ns: int
    old_price: float
    new_price: float


class _Split:
    __slots__ = ("effective_ns", "factor")

    def __init__(self, effective_ns: int, factor: float) -> None:
        self.effective_ns = effective_ns
        self.factor = factor


class _SymbolState:
    """What one symbol's next print is checked against; moved only by accepted prints."""

    __slots__ = (
        "anchor_price",
        "anchor_ts",
        "last_quote_ts",
        "last_ts",
        "recent",
        "splits",
        "streak",
        "streak_price",
    )

    def __init__(self, dedup_window: int) -> None:
        self.last_ts = -(2**63)
        self.last_quote_ts = -(2**63)
        self.anchor_price = 0.0
        self.anchor_ts = -(2**63)
        self.recent = RecentPrints(dedup_window)
        self.streak = 0
        self.streak_price = 0.0
        self.splits: list[_Split] = []


class TickValidator:
    """Filters batches of raw ticks and quotes; pure and synchronous (time is passed in)."""

    __slots__ = ("_config", "_counts", "_gaps", "_quarantine", "_symbols")

    def __init__(self, config: ValidationConfig | None = None) -> None:
        self._config = config if config is not None else ValidationConfig()
        self._symbols: dict[str, _SymbolState] = {}
        self._counts = dict.fromkeys(Reason, 0)
        self._quarantine: deque[tuple[Reason, Tick | Quote]] = deque(
            maxlen=self._config.quarantine_size
        )
        self._gaps: list[GapEvent] = []

    @property
    def counts(self) -> Mapping[str, int]:
        """Quarantined items per reason since construction."""
        return {reason.value: n for reason, n in self._counts.items()}

    @property
    def quarantine(self) -> tuple[tuple[Reason, Tick | Quote], ...]:
        """The most recent quarantined items with their reason, oldest first (bounded)."""
        return tuple(self._quarantine)

    def gaps(self) -> list[GapEvent]:
        """Drain the gap events recorded since the last call."""
        events, self._gaps = self._gaps, []
        return events

    def register_split(
        self, symbol: str, ratio_num: int, ratio_den: int, *, effective_ns: int
    ) -> None:
        """A `ratio_num`:`ratio_den` split from `effective_ns` on: 4:1 turns $400 into $100.

        The symbol's reference price is rescaled at its first print at or after `effective_ns`
        (unless that reference already comes from a print after the split).
        """
        if ratio_num <= 0 or ratio_den <= 0:
            raise ValueError(f"split ratio must be positive, got {ratio_num}:{ratio_den}")
        state = self._state(symbol)
        state.splits.append(_Split(effective_ns, ratio_den / ratio_num))
        state.splits.sort(key=lambda split: split.effective_ns)

    def check_batch(self, batch: TickBatch, *, now_ns: int) -> TickBatch:
        """The clean part of `batch`, in its original order; the rest is quarantined."""
        horizon = now_ns + self._config.future_tolerance_ns
        ticks = [t for t in batch.ticks if self._accept_tick(t, horizon)]
        quotes = [q for q in batch.quotes if self._accept_quote(q, horizon)]
        if len(ticks) == len(batch.ticks) and len(quotes) == len(batch.quotes):
            return batch
        return TickBatch(ticks=ticks, quotes=quotes)

    def _state(self, symbol: str) -> _SymbolState:
        state = self._symbols.get(symbol)
        if state is None:
            state = self._symbols[symbol] = _SymbolState(self._config.dedup_window)
        return state

    def _reject(self, reason: Reason, item: Tick | Quote) -> bool:
        self._counts[reason] += 1
        self._quarantine.append((reason, item))
        return False

    def _accept_tick(self, tick: Tick, horizon: int) -> bool:
        cfg = self._config
        price = tick.price
        if cfg.universe is not None and tick.symbol not in cfg.universe:
            return self._reject(Reason.UNKNOWN_SYMBOL, tick)
        if not math.isfinite(price):
            return self._reject(Reason.NON_FINITE, tick)
        if price <= 0.0:
            return self._reject(Reason.NON_POSITIVE, tick)
        if tick.size <= 0:
            return self._reject(Reason.ZERO_SIZE, tick)
        if tick.size > cfg.max_size:
            return self._reject(Reason.ABSURD_SIZE, tick)
        if not _INT64_MIN <= tick.seq <= _INT64_MAX:  # the tick store keeps 64-bit integers
            return self._reject(Reason.BAD_SEQ, tick)
        if tick.ts_ns > horizon:
            return self._reject(Reason.FUTURE, tick)
        state = self._state(tick.symbol)
        key = (tick.ts_ns, price, tick.size, tick.seq)
        if state.recent.seen(key):
            return self._reject(Reason.DUPLICATE, tick)
        if tick.ts_ns < state.last_ts:
            return self._reject(Reason.OUT_OF_ORDER, tick)
        if state.splits and state.splits[0].effective_ns <= tick.ts_ns:
            self._apply_splits(state, tick.ts_ns)
        if state.anchor_price > 0.0 and self._is_jump(state.anchor_price, price):
            self._track_new_level(state, tick)
            state.recent.remember(key)
            return self._reject(Reason.JUMP, tick)
        state.streak = 0
        state.last_ts = tick.ts_ns
        state.recent.advance(tick.ts_ns)
        state.anchor_price = price
        state.anchor_ts = tick.ts_ns
        state.recent.remember(key)
        return True

    def _is_jump(self, reference: float, price: float) -> bool:
        return abs(price - reference) * 100.0 > self._config.jump_pct * reference

    def _track_new_level(self, state: _SymbolState, tick: Tick) -> None:
        """Count a (quarantined) jump print towards a new level; re-anchor once confirmed.

        Consecutive jump prints within the confirmation band of the first of them agree; when
        `jump_confirmations` agree, the last of them becomes the symbol's reference price.
        """
        cfg = self._config
        price = tick.price
        reference = state.streak_price
        if state.streak > 0 and abs(price - reference) * 100.0 <= cfg.confirm_band_pct * reference:
            state.streak += 1
        else:
            state.streak, state.streak_price = 1, price
        if state.streak >= cfg.jump_confirmations:
            self._gaps.append(GapEvent(tick.symbol, tick.ts_ns, state.anchor_price, price))
            state.streak = 0
            state.anchor_price = price
            state.anchor_ts = tick.ts_ns
            state.last_ts = tick.ts_ns
            state.recent.advance(tick.ts_ns)

    def _apply_splits(self, state: _SymbolState, ts_ns: int) -> None:
        while state.splits and state.splits[0].effective_ns <= ts_ns:
            split = state.splits.pop(0)
            if state.anchor_ts < split.effective_ns:
                state.anchor_price *= split.factor
                state.streak = 0

    def _accept_quote(self, quote: Quote, horizon: int) -> bool:
        cfg = self._config
        bid, ask = quote.bid, quote.ask
        if cfg.universe is not None and quote.symbol not in cfg.universe:
            return self._reject(Reason.UNKNOWN_SYMBOL, quote)
        if not (math.isfinite(bid) and math.isfinite(ask)):
            return self._reject(Reason.NON_FINITE, quote)
        if bid <= 0.0 or ask <= 0.0:
            return self._reject(Reason.NON_POSITIVE, quote)
        if bid > ask:
            return self._reject(Reason.CROSSED, quote)
        if not (0 <= quote.bid_size <= cfg.max_size and 0 <= quote.ask_size <= cfg.max_size):
            return self._reject(Reason.ABSURD_SIZE, quote)
        if quote.ts_ns > horizon:
            return self._reject(Reason.FUTURE, quote)
        state = self._state(quote.symbol)
        if quote.ts_ns < state.last_quote_ts:
            return self._reject(Reason.OUT_OF_ORDER, quote)
        state.last_quote_ts = quote.ts_ns
        return True
