"""BatchCache: batch results keyed by (spec key, symbol, session), shared across research jobs.

Mining, fingerprinting and backtests ask for the same indicators over the same bars again and
again; the cache evaluates each (spec, symbol, session) once and hands out the same read-only
arrays afterwards. Dependencies are cached too, so asking for BBands(20, 2) after SMA(20) reuses
the SMA. `session` is whatever identifies the bar series to the caller (a trading date, a data
set id): the caller promises that one (symbol, session) always comes with the same bars.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from app.indicators.arrays import BarArrays
from app.indicators.batch import BatchRun, Outputs
from app.indicators.spec import FloatArray, IndicatorSpec, Ref, output_of
from app.indicators.trading_day import NewYorkCalendar

CacheKey = tuple[str, str, Hashable]


class BatchCache:
    """LRU (when bounded) map from (spec key, symbol, session) to that spec's outputs."""

    __slots__ = ("_calendar", "_entries", "_max_entries", "computations", "hits", "misses")

    def __init__(
        self, *, calendar: NewYorkCalendar | None = None, max_entries: int | None = None
    ) -> None:
        if max_entries is not None and max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        self._calendar = calendar if calendar is not None else NewYorkCalendar()
        self._max_entries = max_entries
        self._entries: OrderedDict[CacheKey, Outputs] = OrderedDict()
        self.computations = 0
        """Spec evaluations performed (dependencies included); a hit adds none."""
        self.hits = 0
        self.misses = 0

    def _lookup(self, key: CacheKey) -> Outputs | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def outputs(
        self, spec: IndicatorSpec, *, symbol: str, session: Hashable, bars: BarArrays
    ) -> Outputs:
        """All outputs of `spec` for (symbol, session), computed from `bars` on a miss."""
        found = self._lookup((spec.key, symbol, session))
        if found is not None:
            self.hits += 1
            return found
        self.misses += 1
        run = BatchRun(
            bars,
            calendar=self._calendar,
            known=lambda dep: self._lookup((dep.key, symbol, session)),
        )
        result = run.outputs(spec)
        self.computations += len(run.computed)
        for done, outputs in run.results().items():
            self._entries[(done.key, symbol, session)] = outputs
            self._entries.move_to_end((done.key, symbol, session))
        while self._max_entries is not None and len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return result

    def series(self, ref: Ref, *, symbol: str, session: Hashable, bars: BarArrays) -> FloatArray:
        """One output (a single-output spec or e.g. `MACD(12, 26, 9).signal`)."""
        out = output_of(ref)
        return self.outputs(out.spec, symbol=symbol, session=session, bars=bars)[out.name]

    def peek(self, ref: Ref, *, symbol: str, session: Hashable) -> FloatArray | None:
        """The cached output, or None; never computes."""
        out = output_of(ref)
        found = self._entries.get((out.spec.key, symbol, session))
        return None if found is None else found[out.name]

    def discard(self, *, symbol: str | None = None, session: Hashable | None = None) -> int:
        """Drop entries matching the symbol and/or session (both None: everything)."""
        doomed = [
            key
            for key in self._entries
            if (symbol is None or key[1] == symbol) and (session is None or key[2] == session)
        ]
        for key in doomed:
            del self._entries[key]
        return len(doomed)

    def __len__(self) -> int:
        return len(self._entries)
