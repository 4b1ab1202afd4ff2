"""IndicatorPlan: the registry of demanded specs, closed over their dependencies and ordered.

Strategies, exit rules and mining runs each *demand* the specs they read. The plan is the union:
equal specs collapse into one (so a spec shared by ten strategies is computed once), every
dependency is added (MACD brings its two EMAs, Bollinger its SMA and standard deviation), and
the result is ordered so each spec comes after everything it reads. A dependency loop is an
error here, when the plan is built, never a hang or a wrong value later.

Plans are immutable: `with_demands` returns a bigger plan, which is how a shard adds a strategy
without touching what is already computed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from app.indicators.errors import IndicatorCycleError
from app.indicators.spec import IndicatorSpec, Ref, spec_of

_VISITING, _DONE = 1, 2


def _resolve(demanded: Iterable[IndicatorSpec]) -> tuple[IndicatorSpec, ...]:
    """Dependencies first (depth-first post-order, stable in demand order); raise on a loop."""
    state: dict[IndicatorSpec, int] = {}
    order: list[IndicatorSpec] = []
    for root in demanded:
        if state.get(root) == _DONE:
            continue
        path: list[IndicatorSpec] = [root]
        pending: list[Iterator[IndicatorSpec]] = [iter(root.deps())]
        state[root] = _VISITING
        while pending:
            child = next(pending[-1], None)
            if child is None:
                done = path.pop()
                pending.pop()
                state[done] = _DONE
                order.append(done)
                continue
            seen = state.get(child)
            if seen == _DONE:
                continue
            if seen == _VISITING:
                loop = [*path[path.index(child) :], child]
                raise IndicatorCycleError("dependency loop: " + " -> ".join(s.key for s in loop))
            state[child] = _VISITING
            path.append(child)
            pending.append(iter(child.deps()))
    return tuple(order)


class IndicatorPlan:
    """The demanded specs plus their dependencies, deduplicated, in dependency order."""

    __slots__ = ("_demanded", "_index", "_order")

    def __init__(self, demands: Iterable[Ref] = ()) -> None:
        demanded = tuple(dict.fromkeys(spec_of(ref) for ref in demands))
        self._demanded = demanded
        self._order = _resolve(demanded)
        self._index = {spec: i for i, spec in enumerate(self._order)}

    @classmethod
    def of(cls, *demands: Ref) -> IndicatorPlan:
        return cls(demands)

    def with_demands(self, *demands: Ref) -> IndicatorPlan:
        """A plan demanding everything this one does plus `demands`."""
        return IndicatorPlan((*self._demanded, *demands))

    @property
    def demanded(self) -> tuple[IndicatorSpec, ...]:
        """What was asked for (deduplicated, first-demand order): what a snapshot reports."""
        return self._demanded

    @property
    def order(self) -> tuple[IndicatorSpec, ...]:
        """Every spec to materialize, each after its dependencies."""
        return self._order

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(spec.key for spec in self._order)

    def __contains__(self, spec: object) -> bool:
        return spec in self._index

    def __iter__(self) -> Iterator[IndicatorSpec]:
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)

    def __repr__(self) -> str:
        return f"IndicatorPlan({', '.join(self.keys)})"
