"""ShardEngine: ticks -> bars -> strategies and exits -> signals, for the symbols of one shard."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

from msgspec.structs import replace

from app.detection import Detectors, FastMoverConfig, SlowMoverConfig
from app.domain.exit_state import ExitState
from app.domain.market import Bar, Tick
from app.domain.money import ZERO
from app.domain.position import Lot
from app.domain.signal import Signal
from app.engine.bars import BarAggregator, BucketTally
from app.exits.engine import ExitEngine
from app.indicators import ATR, IndicatorBook, IndicatorPlan, Ref
from app.strategies.base import Strategy

RETURNS_KEPT = 30  # 1-minute returns a signal carries for the correlation guard
_MINUTE_S = 60


class ShardEngine:
    """Pure and synchronous: the same object runs in a live shard worker and in a backtest.

    It knows the open lots of its symbols (fed by lot updates from execution), so the exit
    engine can watch them; an exit signal is not repeated for a lot until `exit_retry_ns` has
    passed without the lot closing.
    """

    def __init__(
        self,
        *,
        strategies: Sequence[Strategy],
        exits: ExitEngine,
        aggregator: BarAggregator,
        exit_interval_s: int = 1,
        exit_retry_ns: int = 30_000_000_000,
        watermark_grace_ns: int = 1_000_000_000,
        detectors: Detectors | None = None,
    ) -> None:
        self._strategies: tuple[Strategy, ...] = ()
        self._exits = exits
        self._books: dict[int, IndicatorBook] = {}
        self._interval_of: dict[str, int] = {}
        self._atr: dict[str, ATR] = {}
        self._install(strategies)
        self._closes: dict[str, deque[float]] = {}
        self.detectors = detectors or Detectors(FastMoverConfig(), SlowMoverConfig())
        self._aggregator = aggregator
        self._exit_interval_s = exit_interval_s
        self._exit_retry_ns = exit_retry_ns
        self._grace_ns = watermark_grace_ns
        self._next_flush_ns = 0
        self._lots: dict[str, dict[str, Lot]] = {}
        self._exit_sent: dict[str, int] = {}  # entry id -> when its last exit signal went out
        self._exit_states: dict[str, ExitState] = {}
        self._dirty_exit_states: dict[str, ExitState] = {}
        self._data_ns = 0
        self.last_price: dict[str, float] = {}
        self.last_trade_ns: dict[str, int] = {}
        self.ticks = 0
        self.bars = 0
        self._warming = False

    def reconfigure(self, strategies: Sequence[Strategy]) -> None:
        """Run this set of strategies from the next bar on (an edited configuration).

        Indicator books are kept: what a new or changed strategy demands beyond them is added
        and warms up on the bars to come (`ready` says when). A replaced strategy starts with
        fresh state of its own.
        """
        self._exits.configure({s.name: s.exit for s in strategies})
        self._install(strategies)

    def _install(self, strategies: Sequence[Strategy]) -> None:
        self._strategies = tuple(strategies)
        self._interval_of = {s.name: s.interval_s for s in self._strategies}
        self._atr = {
            s.name: ATR(s.exit.atr_period) for s in self._strategies if s.exit.trailing_atr
        }
        for interval, refs in _demands(self._strategies).items():
            book = self._books.get(interval)
            if book is None:
                self._books[interval] = IndicatorBook(IndicatorPlan.of(*refs))
            else:
                book.demand(*refs)

    @property
    def strategies(self) -> tuple[Strategy, ...]:
        return self._strategies

    def load_lots(self, lots: Iterable[Lot], exit_states: Iterable[ExitState] = ()) -> None:
        for lot in lots:
            self.apply_lot(lot)
        self._exit_states.update((s.entry_order_id, s) for s in exit_states)

    def apply_lot(self, lot: Lot, *, exit_working: bool = False) -> None:
        """A lot changed at execution. Once no exit order is working on it, the next exit
        decision is free at once (a scaled target filled); a rejected exit waits for the retry."""
        by_symbol = self._lots.setdefault(lot.symbol, {})
        if exit_working:
            self._exit_sent[lot.entry_order_id] = self._data_ns  # it is filling: wait for it
        else:
            self._exit_sent.pop(lot.entry_order_id, None)
        if lot.qty_open > ZERO:
            by_symbol[lot.entry_order_id] = lot
        else:
            by_symbol.pop(lot.entry_order_id, None)
            self._exit_states.pop(lot.entry_order_id, None)

    def drain_exit_states(self) -> list[ExitState]:
        """Exit states changed since the last call, for the worker to persist."""
        changed = list(self._dirty_exit_states.values())
        self._dirty_exit_states.clear()
        return changed

    def open_lots(self, symbol: str) -> list[Lot]:
        return list(self._lots.get(symbol, {}).values())

    def open_lots_all(self) -> list[Lot]:
        return [lot for by_symbol in self._lots.values() for lot in by_symbol.values()]

    def on_ticks(self, ticks: Iterable[Tick]) -> list[Signal]:
        """Feed ticks in arrival order. Quiet symbols' bars close when the shard's data time (its
        newest tick less a grace) passes their end, checked at each new second of data time, so
        the same tick sequence closes the same bars at the same points however it is batched."""
        signals: list[Signal] = []
        add = self._aggregator.add
        last = self.last_price
        detect = self.detectors.on_tick
        for tick in ticks:
            self.ticks += 1
            detect(tick)
            self._data_ns = max(self._data_ns, tick.ts_ns)
            if tick.ts_ns >= self._next_flush_ns:
                signals.extend(self.on_time(tick.ts_ns - self._grace_ns))
                self._next_flush_ns = (tick.ts_ns // 1_000_000_000 + 1) * 1_000_000_000
            last[tick.symbol] = tick.price
            self.last_trade_ns[tick.symbol] = tick.ts_ns
            for bar in add(tick):
                signals.extend(self._on_bar(bar))
        return signals

    def on_bar_prints(self, ticks: Sequence[Tick], tallies: Sequence[BucketTally]) -> list[Signal]:
        """Bars replayed as prints (a backtest from a bar file): the same as `on_ticks(ticks)`
        when `tallies` are what each symbol's prints among `ticks` add up to, every print lies
        in its bar's bucket and every earlier bar has been closed (`on_time`). The prints still
        go one by one to the fast-mover detector and set the last trade, but the aggregator
        takes each bar whole instead of four times a print."""
        signals: list[Signal] = []
        detect = self.detectors.on_tick
        last, last_ns = self.last_price, self.last_trade_ns
        for tick in ticks:
            detect(tick)
            if tick.ts_ns >= self._next_flush_ns:
                self._data_ns = max(self._data_ns, tick.ts_ns)
                signals.extend(self.on_time(tick.ts_ns - self._grace_ns))
                self._next_flush_ns = (tick.ts_ns // 1_000_000_000 + 1) * 1_000_000_000
            last[tick.symbol] = tick.price
            last_ns[tick.symbol] = tick.ts_ns
        self.ticks += len(ticks)
        if ticks:
            self._data_ns = max(self._data_ns, ticks[-1].ts_ns)
        add = self._aggregator.add_tally
        for tally in tallies:
            for bar in add(tally):
                signals.extend(self._on_bar(bar))
        return signals

    def warm(self, ticks: Iterable[Tick]) -> None:
        """Replay history so bars, indicators and strategy state are as if the shard had run
        all along; no signal comes out and no exit is decided (that was the past)."""
        self._warming = True
        try:
            self.on_ticks(ticks)
        finally:
            self._warming = False

    def on_time(self, now_ns: int) -> list[Signal]:
        """Close every bar that ends at or before `now_ns`."""
        self._data_ns = max(self._data_ns, now_ns)
        signals: list[Signal] = []
        for bar in self._aggregator.flush_until(now_ns):
            signals.extend(self._on_bar(bar))
        return signals

    def _stamped(self, signal: Signal) -> Signal:
        """What the shard knows beside the strategy: when the symbol last traded, its
        detection tag, and its recent 1-minute returns (for the arbiter's guards)."""
        closes = self._closes.get(signal.symbol, ())
        prior = None
        returns: list[float] = []
        for close in closes:
            if prior:
                returns.append(close / prior - 1.0)
            prior = close
        tag = self.detectors.active(signal.symbol, signal.ts_ns)
        return replace(
            signal,
            price_ts_ns=self.last_trade_ns.get(signal.symbol, 0),
            returns=tuple(returns),
            detection=tag.value if tag is not None else "",
        )

    def _on_bar(self, bar: Bar) -> list[Signal]:
        self.bars += 1
        if bar.interval_s == _MINUTE_S:
            closes = self._closes.get(bar.symbol)
            if closes is None:
                closes = self._closes[bar.symbol] = deque(maxlen=RETURNS_KEPT + 1)
            closes.append(bar.close)
            self.detectors.on_bar(bar)
        signals: list[Signal] = []
        lots = self._lots.get(bar.symbol)
        book = self._books.get(bar.interval_s)
        ind = book.update(bar) if book is not None else None
        for strategy in self._strategies:
            if ind is None or bar.interval_s != strategy.interval_s:
                continue
            mine = [lot for lot in lots.values() if lot.strategy == strategy.name] if lots else []
            signal = strategy.on_bar(bar, ind, mine)
            if signal is not None and not self._warming:
                signals.append(self._stamped(signal))
        if lots and bar.interval_s == self._exit_interval_s and not self._warming:
            signals.extend(self._exit_signals(bar, list(lots.values())))
        return signals

    def _exit_signals(self, bar: Bar, lots: list[Lot]) -> list[Signal]:
        due: list[Lot] = []
        for lot in lots:
            sent = self._exit_sent.get(lot.entry_order_id)
            if sent is not None and bar.end_ns - sent < self._exit_retry_ns:
                self._remember(
                    self._exits.track(bar, lot, self._exit_states.get(lot.entry_order_id))
                )
                continue
            due.append(lot)
        signals, changed = self._exits.on_bar(
            bar, due, states=self._exit_states, now_ns=self._data_ns, atr_of=self._atr_for
        )
        for state in changed.values():
            self._remember(state)
        for signal in signals:
            if signal.closes is not None:
                self._exit_sent[signal.closes] = bar.end_ns
        return signals

    def _atr_for(self, lot: Lot) -> float | None:
        spec = self._atr.get(lot.strategy)
        book = self._books.get(self._interval_of.get(lot.strategy, 0))
        if spec is None or book is None or lot.symbol not in book:
            return None
        return book[lot.symbol].value(spec)

    def _remember(self, state: ExitState) -> None:
        if self._exit_states.get(state.entry_order_id) != state:
            self._exit_states[state.entry_order_id] = state
            self._dirty_exit_states[state.entry_order_id] = state


def _demands(strategies: Sequence[Strategy]) -> dict[int, list[Ref]]:
    """Per bar interval, exactly what its strategies and their exits read; one indicator book
    per interval computes equal specs from different strategies once."""
    demands: dict[int, list[Ref]] = {}
    for strategy in strategies:
        refs = demands.setdefault(strategy.interval_s, [])
        refs.extend(strategy.indicators)
        if strategy.exit.trailing_atr:
            refs.append(ATR(strategy.exit.atr_period))
    return demands
