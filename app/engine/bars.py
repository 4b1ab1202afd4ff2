"""Ticks into OHLCV bars, per symbol and interval, on every tick.

Buckets are aligned to the epoch: a bar of interval `i` seconds starts at `ts - ts % i`. Every
session boundary (04:00, 09:30, 13:00, 16:00, 17:00, 20:00 and midnight, New York time) is a
whole half hour after the epoch, because New York is a whole number of hours off UTC; so with
intervals that divide 30 minutes a bucket never spans two sessions or two trading days, and each
bar carries the one session of its bucket. Ticks in CLOSED time are counted, not aggregated.

A symbol's bar closes when one of its ticks lands in a later bucket, or when `flush_until(now)`
reaches the bar's end, so quiet symbols still close bars on time. Once a bucket has been emitted
it is sealed: a tick that arrives for it afterwards (or older than the symbol's last tick) is
counted as late and dropped, for every interval alike, so no bucket is ever emitted twice.
Call `flush_until(now - allowed_lateness)` to leave stragglers room.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from app.domain.calendar import NS_PER_SECOND, session_span
from app.domain.market import Bar, Session, Tick

_HALF_HOUR_S = 1800
_DueKey = tuple[int, int]  # (end_ns, interval_s)


class BucketTally(NamedTuple):
    """What a run of one symbol's prints within one bucket adds up to, in print order: the
    first print's price, the extremes, the last print's price and time, the shares, the prints
    and the sum of price times size (added print by print, as the aggregator adds them)."""

    symbol: str
    last_ns: int
    open: float
    high: float
    low: float
    close: float
    volume: int
    trades: int
    notional: float

    @classmethod
    def of(cls, tick: Tick) -> BucketTally:
        price = tick.price
        return cls(
            tick.symbol, tick.ts_ns, price, price, price, price, tick.size, 1, price * tick.size
        )


class _OpenBar:
    """The running state of one bar; mutated in place on each tick."""

    __slots__ = (
        "close",
        "end_ns",
        "high",
        "low",
        "notional",
        "open",
        "session",
        "start_ns",
        "trades",
        "volume",
    )

    def __init__(self, *, start_ns: int, end_ns: int, session: Session, tally: BucketTally) -> None:
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.session = session
        self.open = tally.open
        self.high = tally.high
        self.low = tally.low
        self.close = tally.close
        self.volume = tally.volume
        self.trades = tally.trades
        self.notional = tally.notional

    def to_bar(self, symbol: str, interval_s: int) -> Bar:
        vwap = self.notional / self.volume if self.volume > 0 else self.close
        return Bar(
            symbol=symbol,
            ts_ns=self.start_ns,
            interval_s=interval_s,
            open=self.open,
            high=self.high,
            low=self.low,
            close=self.close,
            volume=self.volume,
            trades=self.trades,
            vwap=vwap,
            session=self.session,
        )


class _SymbolBars:
    """One symbol's open bars (one slot per interval) and the time before which it is sealed."""

    __slots__ = ("floor_ns", "open")

    def __init__(self, n_intervals: int) -> None:
        self.floor_ns = -(2**63)
        self.open: list[_OpenBar | None] = [None] * n_intervals


def _bar_order(bar: Bar) -> tuple[int, int, str]:
    return (bar.end_ns, bar.interval_s, bar.symbol)


class BarAggregator:
    """Aggregates validated ticks into session-aware OHLCV bars; pure and synchronous."""

    __slots__ = (
        "_closed_session_ticks",
        "_due",
        "_interval_index",
        "_intervals",
        "_intervals_ns",
        "_late_ticks",
        "_span_end",
        "_span_session",
        "_span_start",
        "_symbols",
    )

    def __init__(self, intervals: Iterable[int] = (1, 60)) -> None:
        chosen = tuple(sorted(set(intervals)))
        if not chosen:
            raise ValueError("at least one interval is needed")
        for interval in chosen:
            if interval <= 0 or _HALF_HOUR_S % interval:
                raise ValueError(
                    f"interval {interval}s must divide 1800s so no bar spans two sessions"
                )
        self._intervals = chosen
        self._intervals_ns = tuple(i * NS_PER_SECOND for i in chosen)
        self._interval_index = {interval: k for k, interval in enumerate(chosen)}
        self._symbols: dict[str, _SymbolBars] = {}
        self._due: dict[_DueKey, set[str]] = {}
        self._span_start = 0
        self._span_end = 0
        self._span_session = Session.CLOSED
        self._closed_session_ticks = 0
        self._late_ticks = 0

    @property
    def intervals(self) -> tuple[int, ...]:
        return self._intervals

    @property
    def closed_session_ticks(self) -> int:
        """Ticks that fell in CLOSED time and were not aggregated."""
        return self._closed_session_ticks

    @property
    def late_ticks(self) -> int:
        """Ticks older than their symbol's last tick or in an already emitted bucket."""
        return self._late_ticks

    def add(self, tick: Tick) -> list[Bar]:
        """Aggregate one tick; returns the bars of its symbol that this tick closed."""
        ts = tick.ts_ns
        if not self._span_start <= ts < self._span_end:
            self._enter_span(ts)
        symbol = tick.symbol
        state = self._symbols.get(symbol)
        if state is None:
            state = self._symbols[symbol] = _SymbolBars(len(self._intervals))
        if ts < state.floor_ns:
            self._late_ticks += 1
            return []
        state.floor_ns = ts
        session = self._span_session
        closed: list[Bar] = []
        open_bars = state.open
        for k, bar in enumerate(open_bars):
            if bar is not None and ts >= bar.end_ns:
                closed.append(self._emit(symbol, k, bar))
                open_bars[k] = bar = None
            if session is Session.CLOSED:
                continue
            if bar is None:
                start = ts - ts % self._intervals_ns[k]
                end = start + self._intervals_ns[k]
                open_bars[k] = _OpenBar(
                    start_ns=start, end_ns=end, session=session, tally=BucketTally.of(tick)
                )
                self._due_at(end, self._intervals[k], symbol)
            else:
                price = tick.price
                if price > bar.high:
                    bar.high = price
                elif price < bar.low:
                    bar.low = price
                bar.close = price
                bar.volume += tick.size
                bar.trades += 1
                bar.notional += price * tick.size
        if session is Session.CLOSED:
            self._closed_session_ticks += 1
        if len(closed) > 1:
            closed.sort(key=_bar_order)
        return closed

    def add_tally(self, tally: BucketTally) -> list[Bar]:
        """Whole runs of prints at once (a bar replayed from a bar file): the same as adding
        each of the tally's prints, for an aggregator of one interval whose bucket holds them
        all and a symbol with no open bar in that bucket yet. Returns the bars it closed."""
        if len(self._intervals) != 1:
            raise ValueError("a tally of prints feeds an aggregator of one interval only")
        ts = tally.last_ns
        if not self._span_start <= ts < self._span_end:
            self._enter_span(ts)
        symbol = tally.symbol
        state = self._symbols.get(symbol)
        if state is None:
            state = self._symbols[symbol] = _SymbolBars(1)
        if ts < state.floor_ns:
            self._late_ticks += tally.trades
            return []
        state.floor_ns = ts
        start = ts - ts % self._intervals_ns[0]
        closed: list[Bar] = []
        bar = state.open[0]
        if bar is not None:
            if ts < bar.end_ns:
                raise ValueError(f"{symbol} already has an open bar at {start}")
            closed.append(self._emit(symbol, 0, bar))
            state.open[0] = None
        if self._span_session is Session.CLOSED:
            self._closed_session_ticks += tally.trades
            return closed
        end = start + self._intervals_ns[0]
        state.open[0] = _OpenBar(
            start_ns=start, end_ns=end, session=self._span_session, tally=tally
        )
        self._due_at(end, self._intervals[0], symbol)
        return closed

    def flush_until(self, now_ns: int) -> list[Bar]:
        """Close every open bar whose bucket ends at or before now_ns."""
        ready = sorted(key for key in self._due if key[0] <= now_ns)
        out: list[Bar] = []
        for key in ready:
            end_ns, interval_s = key
            k = self._interval_index[interval_s]
            for symbol in sorted(self._due[key]):
                state = self._symbols[symbol]
                bar = state.open[k]
                assert bar is not None and bar.end_ns == end_ns
                state.open[k] = None
                out.append(bar.to_bar(symbol, interval_s))
                state.floor_ns = max(state.floor_ns, end_ns)
            del self._due[key]
        return out

    def flush_all(self) -> list[Bar]:
        """Close every open bar, whatever its end (end of a replay, shutdown)."""
        return self.flush_until(max((key[0] for key in self._due), default=0))

    def _enter_span(self, ts: int) -> None:
        """Cache the session span holding `ts` (sessions change a few times a day)."""
        span = session_span(ts)
        self._span_start, self._span_end, self._span_session = (
            span.start_ns,
            span.end_ns,
            span.session,
        )

    def _due_at(self, end_ns: int, interval_s: int, symbol: str) -> None:
        due = self._due.get((end_ns, interval_s))
        if due is None:
            self._due[(end_ns, interval_s)] = {symbol}
        else:
            due.add(symbol)

    def _emit(self, symbol: str, k: int, bar: _OpenBar) -> Bar:
        interval_s = self._intervals[k]
        key = (bar.end_ns, interval_s)
        due = self._due[key]
        due.discard(symbol)
        if not due:
            del self._due[key]
        return bar.to_bar(symbol, interval_s)
