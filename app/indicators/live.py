"""The incremental engine: one IndicatorSet per symbol, one IndicatorBook per shard.

An IndicatorSet materializes exactly the specs of its plan (demanded ones plus dependencies,
nothing else) as step closures in dependency order. `update(bar)` calls each step once: O(1)
per spec per bar (running sums, monotonic deques, recursive smoothing; no numpy, no window
re-scanned per bar). Every output lives in one flat list of
floats, so a step reads a dependency's value by index and a strategy reads any value with one
lookup; each spec has an explicit ready flag, and its values stay NaN until the flag flips.

The IndicatorBook holds one set per symbol for a shared plan: every strategy on the shard reads
the same set, so a spec demanded by many strategies is updated once per bar. Demanding more
(a new strategy) extends the existing sets with only the specs they lack; what is already warm
stays warm, and the new specs start their warm-up from the next bar.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from app.domain.market import Bar
from app.indicators.plan import IndicatorPlan
from app.indicators.spec import IndicatorSpec, Output, Ref, Step, output_of, outputs_of
from app.indicators.trading_day import NewYorkCalendar

_MEMO_LIMIT = 1024


class _Wiring:
    """The StepContext handed to one spec while its step is built."""

    __slots__ = ("_flag", "_owner", "_spec")

    def __init__(self, owner: IndicatorSet, spec: IndicatorSpec, flag: int) -> None:
        self._owner = owner
        self._spec = spec
        self._flag = flag

    @property
    def values(self) -> list[float]:
        return self._owner._values

    @property
    def ready(self) -> list[bool]:
        return self._owner._ready

    @property
    def flag(self) -> int:
        return self._flag

    @property
    def calendar(self) -> NewYorkCalendar:
        return self._owner._calendar

    def slot(self, output: str = "value") -> int:
        return self._owner._slots[Output(self._spec, output)]

    def source(self, ref: Ref) -> tuple[int, int]:
        out = output_of(ref)
        if out.spec not in self._spec.deps():
            raise LookupError(f"{self._spec.key} reads {out.key} without declaring it in deps()")
        return self._owner._slots[out], self._owner._flags[out.spec]


class IndicatorSet:
    """Incremental indicator values of one symbol for one plan."""

    __slots__ = (
        "_bars",
        "_by_id",
        "_calendar",
        "_flag_by_id",
        "_flags",
        "_lookup",
        "_plan",
        "_ready",
        "_since",
        "_slots",
        "_steps",
        "_values",
        "symbol",
    )

    def __init__(
        self, plan: IndicatorPlan, *, symbol: str, calendar: NewYorkCalendar | None = None
    ) -> None:
        self.symbol = symbol
        self._calendar = calendar if calendar is not None else NewYorkCalendar()
        self._plan = IndicatorPlan()
        self._values: list[float] = []
        self._ready: list[bool] = []
        self._slots: dict[Output, int] = {}
        self._flags: dict[IndicatorSpec, int] = {}
        self._since: dict[IndicatorSpec, int] = {}
        self._lookup: dict[Ref, int] = {}
        self._by_id: dict[int, tuple[Ref, int]] = {}
        self._flag_by_id: dict[int, tuple[Ref, int]] = {}
        self._steps: list[Step] = []
        self._bars = 0
        self.extend(plan)

    def extend(self, plan: IndicatorPlan) -> tuple[IndicatorSpec, ...]:
        """Adopt a bigger plan: materialize only the specs not already here; return them."""
        added = tuple(spec for spec in plan.order if spec not in self._flags)
        for spec in added:
            flag = len(self._ready)
            self._ready.append(False)
            self._flags[spec] = flag
            for out in outputs_of(spec):
                self._slots[out] = len(self._values)
                self._values.append(math.nan)
            self._since[spec] = self._bars
            self._steps.append(spec.incremental(_Wiring(self, spec, flag)))
        self._plan = plan
        return added

    def update(self, bar: Bar) -> None:
        """Advance every materialized spec by one bar (the bar's symbol is not re-checked)."""
        for step in self._steps:
            step(bar)
        self._bars += 1

    def _slot(self, ref: Ref) -> int:
        slot = self._lookup.get(ref)
        if slot is None:
            out = output_of(ref)
            slot = self._slots.get(out)
            if slot is None:
                raise KeyError(f"{out.key} is not in this set's plan; demand it first")
            self._lookup[ref] = slot
        return slot

    def value(self, ref: Ref) -> float:
        """Current value of a single-output spec or of one output; NaN while not ready.

        Strategies ask with the same spec objects bar after bar, and a spec hashes and compares
        in Python; so each ref object is remembered by identity (the entry holds the object, so
        its id cannot be reused while remembered), and forgotten all at once should a caller
        build fresh refs every time and the memo grow past `_MEMO_LIMIT`."""
        hit = self._by_id.get(id(ref))
        if hit is not None and hit[0] is ref:
            return self._values[hit[1]]
        slot = self._slot(ref)
        if len(self._by_id) >= _MEMO_LIMIT:
            self._by_id.clear()
        self._by_id[id(ref)] = (ref, slot)
        return self._values[slot]

    def ready(self, ref: Ref) -> bool:
        """Whether the spec behind `ref` has finished its warm-up (it never un-readies); refs
        are remembered by identity as in `value`."""
        hit = self._flag_by_id.get(id(ref))
        if hit is not None and hit[0] is ref:
            return self._ready[hit[1]]
        spec = ref.spec if isinstance(ref, Output) else ref
        flag = self._flags.get(spec)
        if flag is None:
            raise KeyError(f"{spec.key} is not in this set's plan; demand it first")
        if len(self._flag_by_id) >= _MEMO_LIMIT:
            self._flag_by_id.clear()
        self._flag_by_id[id(ref)] = (ref, flag)
        return self._ready[flag]

    def index(self, ref: Ref) -> int:
        """Position of `ref` in `values`, for hot loops that read it every bar."""
        return self._slot(ref)

    @property
    def values(self) -> list[float]:
        """All current values by `index` (read-only by contract: the steps own them)."""
        return self._values

    def snapshot(self) -> dict[str, float]:
        """Every output of every demanded spec, by key: the audit record of a decision."""
        values, slots = self._values, self._slots
        return {
            out.key: values[slots[out]] for spec in self._plan.demanded for out in outputs_of(spec)
        }

    @property
    def plan(self) -> IndicatorPlan:
        return self._plan

    @property
    def materialized(self) -> tuple[str, ...]:
        """Keys of the specs this set computes, in update order."""
        return tuple(spec.key for spec in self._flags)

    def computations(self) -> dict[str, int]:
        """Per spec key, how many bars its step has processed (every materialized step runs on
        every bar after it was added, and nothing else runs)."""
        return {spec.key: self._bars - since for spec, since in self._since.items()}


class IndicatorBook:
    """One IndicatorSet per symbol for a shard, all on the same (growing) plan."""

    __slots__ = ("_calendar", "_plan", "_sets")

    def __init__(
        self, plan: IndicatorPlan | None = None, *, calendar: NewYorkCalendar | None = None
    ) -> None:
        self._plan = plan if plan is not None else IndicatorPlan()
        self._calendar = calendar if calendar is not None else NewYorkCalendar()
        self._sets: dict[str, IndicatorSet] = {}

    @property
    def plan(self) -> IndicatorPlan:
        return self._plan

    def demand(self, *refs: Ref) -> tuple[IndicatorSpec, ...]:
        """Add demands (e.g. a new strategy's); existing sets gain only the specs they lack.
        Returns the specs that were new to the plan."""
        plan = self._plan.with_demands(*refs)
        added = tuple(spec for spec in plan.order if spec not in self._plan)
        self._plan = plan
        for indicator_set in self._sets.values():
            indicator_set.extend(plan)
        return added

    def set_for(self, symbol: str) -> IndicatorSet:
        """The symbol's set, created (cold) on first use."""
        indicator_set = self._sets.get(symbol)
        if indicator_set is None:
            indicator_set = IndicatorSet(self._plan, symbol=symbol, calendar=self._calendar)
            self._sets[symbol] = indicator_set
        return indicator_set

    def update(self, bar: Bar) -> IndicatorSet:
        """Route a bar to its symbol's set, update it, and return it."""
        indicator_set = self.set_for(bar.symbol)
        indicator_set.update(bar)
        return indicator_set

    def discard(self, symbol: str) -> None:
        """Forget a symbol that left the shard."""
        self._sets.pop(symbol, None)

    def __getitem__(self, symbol: str) -> IndicatorSet:
        return self._sets[symbol]

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._sets

    def __iter__(self) -> Iterator[str]:
        return iter(self._sets)

    def __len__(self) -> int:
        return len(self._sets)
