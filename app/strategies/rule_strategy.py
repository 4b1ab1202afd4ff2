"""RuleStrategy: trades a discovered rule (app.strategies.rule) as it is given, as data.

Per symbol it keeps a bar count, the last left - right difference of each crossing condition,
and, per phase after the first, when the phase before it held: the latest time that is already
`min_gap` bars old, plus the (at most `min_gap`) more recent ones still waiting. That answers
"did the previous phase hold between min_gap and max_gap bars ago?" exactly, in O(1) per bar
and in state bounded by the rule, not by the data. When the last phase holds the sequence is
used up: every phase must hold again before the rule fires again.
"""

from __future__ import annotations

import math
import operator
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.domain.market import Bar
from app.domain.position import Lot
from app.domain.signal import Signal
from app.indicators import IndicatorSet, Ref
from app.indicators.spec import Output
from app.strategies.entry import all_ready, long_entry, may_enter, sizing_stop
from app.strategies.rule import CROSSES, Condition, Rule, parse_operand

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True, slots=True)
class _Operand:
    field: str | None = None
    ref: Output | None = None
    constant: float = math.nan

    def value(self, bar: Bar, ind: IndicatorSet) -> float:
        if self.ref is not None:
            return ind.value(self.ref)
        if self.field is not None:
            return float(getattr(bar, self.field))
        return self.constant

    def describe(self, bar: Bar, ind: IndicatorSet) -> str:
        if self.ref is not None:
            return f"{self.ref.key} {self.value(bar, ind):.4g}"
        if self.field is not None:
            return f"{self.field} {self.value(bar, ind):.4g}"
        return f"{self.constant:g}"


def _operand(side: str | float) -> _Operand:
    if not isinstance(side, str):
        return _Operand(constant=float(side))
    parsed = parse_operand(side)
    return _Operand(field=parsed) if isinstance(parsed, str) else _Operand(ref=parsed)


@dataclass(frozen=True, slots=True)
class _Compiled:
    left: _Operand
    op: str
    right: _Operand
    slot: int  # index of its last difference in the symbol's state; -1 for a comparison

    @classmethod
    def of(cls, condition: Condition, crossings: int) -> _Compiled:
        slot = crossings if condition.op in CROSSES else -1
        return cls(_operand(condition.left), condition.op, _operand(condition.right), slot)

    def holds(self, bar: Bar, ind: IndicatorSet, last: list[float]) -> bool:
        left, right = self.left.value(bar, ind), self.right.value(bar, ind)
        if self.slot < 0:
            return _COMPARE[self.op](left, right)
        before = last[self.slot]
        last[self.slot] = difference = left - right
        if self.op == "crosses_above":
            return before <= 0.0 < difference
        return before >= 0.0 > difference

    def describe(self, bar: Bar, ind: IndicatorSet) -> str:
        return f"{self.left.describe(bar, ind)} {self.op} {self.right.describe(bar, ind)}"


class _Waits:
    """For one phase after the first: when the phase before it held, as bar numbers."""

    __slots__ = ("eligible", "pending")

    def __init__(self) -> None:
        self.eligible = -1  # latest bar at least min_gap old (-1: none)
        self.pending: deque[int] = deque()  # later ones, oldest first


class _Progress:
    __slots__ = ("bars", "last", "waits")

    def __init__(self, crossings: int, phases: int) -> None:
        self.bars = 0
        self.last = [math.nan] * crossings
        self.waits = [_Waits() for _ in range(phases - 1)]


class RuleStrategy:
    """Enter long when the rule's phases complete in order within their gaps, in the regular
    session, with every indicator it reads ready and nothing held. Stop from the rule's exit."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.name = rule.name
        self.priority = rule.priority
        self.interval_s = rule.interval_s
        self.accepts = rule.accepts
        self.exit = rule.exit
        crossings = 0
        phases: list[tuple[_Compiled, ...]] = []
        for conditions in rule.all_phases:
            compiled = []
            for condition in conditions:
                compiled.append(_Compiled.of(condition, crossings))
                crossings += condition.op in CROSSES
            phases.append(tuple(compiled))
        self._phases = tuple(phases)
        self._gaps = tuple((phase.min_gap, phase.max_gap) for phase in rule.phases)
        self._crossings = crossings
        operands = [side for phase in phases for c in phase for side in (c.left, c.right)]
        self._refs: tuple[Ref, ...] = tuple(dict.fromkeys(o.ref for o in operands if o.ref))
        self._fields = tuple(dict.fromkeys(o.field for o in operands if o.field))
        self._progress: dict[str, _Progress] = {}

    @property
    def indicators(self) -> tuple[Ref, ...]:
        return self._refs

    def on_bar(self, bar: Bar, ind: IndicatorSet, lots: Sequence[Lot]) -> Signal | None:
        if bar.interval_s != self.interval_s:
            return None
        progress = self._progress.get(bar.symbol)
        if progress is None:
            progress = self._progress[bar.symbol] = _Progress(self._crossings, len(self._phases))
        now = progress.bars
        progress.bars += 1
        held = True
        gap = 0
        last = len(self._phases) - 1
        for k, phase in enumerate(self._phases):
            # A list, not a generator: every crossing condition must see every bar.
            held = all([condition.holds(bar, ind, progress.last) for condition in phase])
            if k > 0:
                waits, (min_gap, max_gap) = progress.waits[k - 1], self._gaps[k - 1]
                while waits.pending and now - waits.pending[0] >= min_gap:
                    waits.eligible = waits.pending.popleft()
                gap = now - waits.eligible
                held = held and waits.eligible >= 0 and gap <= max_gap
            if held and k < last:
                progress.waits[k].pending.append(now)
        if not held:
            return None
        progress.waits = [_Waits() for _ in progress.waits]
        if not all_ready(ind, self._refs) or not may_enter(bar, lots):
            return None
        return long_entry(
            strategy=self.name,
            priority=self.priority,
            bar=bar,
            stop=sizing_stop(bar.close, self.exit),
            confidence=self.rule.confidence,
            reason=self._reason(bar, ind, gap),
            ind=ind,
            levels={field: float(getattr(bar, field)) for field in self._fields},
        )

    def _reason(self, bar: Bar, ind: IndicatorSet, gap: int) -> str:
        fired = ", ".join(condition.describe(bar, ind) for condition in self._phases[-1])
        if not self._gaps:
            return f"rule {self.name}: {fired}"
        earlier = " then ".join(
            "(" + ", ".join(str(c) for c in conditions) + ")"
            for conditions in self.rule.all_phases[:-1]
        )
        return f"rule {self.name}: {earlier}, then {gap} bars later: {fired}"
