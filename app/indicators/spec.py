"""Indicator specs: frozen, hashable declarations of *what* to compute.

A spec is a frozen dataclass (kind + parameters + source field), e.g. `EMA(9)`, `MACD(12, 26, 9)`
or `Slope(EMA(9), 3)`. Two equal specs are the same indicator: they share one `key` (the column
name and audit label, e.g. "ema_9", "macd_12_26_9", "sma_20_volume", "slope_3_ema_9") and are
computed once. Equality is by class and key, and the key spells every parameter, so the key is
the identity.

Each spec also knows *how* to compute itself, in two forms that must agree:

* `incremental(ctx)` returns a `Step`: a closure called once per bar that updates its outputs in
  O(1) (running sums, monotonic deques, recursive smoothing) and writes them into the set's flat
  value list; a spec's value is NaN until its explicit ready flag flips.
* `batch(ctx)` computes every output over whole numpy arrays at once (vectorized, no per-bar
  Python loop).

Both read their inputs (other specs' outputs) through the context, never by recomputing them, so
shared dependencies are computed once. `deps()` declares those inputs; `IndicatorPlan` orders
them.

Multi-output specs (MACD, Bollinger, stochastic, Donchian, VWAP bands) name their outputs in
`outputs`; address one with `spec.out("signal")` or the typed property (`MACD(12, 26, 9).signal`,
`BBands(20, 2).upper`). A single-output spec stands for its one value. Addressing a multi-output
spec without choosing an output is an error wherever one number is needed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol, TypeAlias, get_args

import numpy as np
import numpy.typing as npt

from app.domain.market import Bar
from app.indicators.errors import IndicatorParamError

if TYPE_CHECKING:
    from app.indicators.arrays import BarArrays
    from app.indicators.trading_day import DayIndex, NewYorkCalendar

FloatArray: TypeAlias = npt.NDArray[np.float64]
Step: TypeAlias = Callable[[Bar], None]
Field = Literal["open", "high", "low", "close", "volume"]
FIELDS: tuple[Field, ...] = get_args(Field)
VALUE = "value"
NAN = math.nan


class StepContext(Protocol):
    """What a spec's incremental step is wired to inside one IndicatorSet."""

    @property
    def values(self) -> list[float]:
        """The set's flat value list; a step writes its outputs at its own slots."""
        ...

    @property
    def ready(self) -> list[bool]:
        """The set's ready flags; a step sets its own flag once, when warm-up completes."""
        ...

    @property
    def flag(self) -> int:
        """Index of this spec's ready flag in `ready`."""
        ...

    @property
    def calendar(self) -> NewYorkCalendar: ...

    def slot(self, output: str = VALUE) -> int:
        """Index in `values` where this spec writes `output`."""
        ...

    def source(self, ref: Ref) -> tuple[int, int]:
        """(value slot, ready flag) of a dependency's output; it updates before this spec."""
        ...


class BatchContext(Protocol):
    """What a spec's batch form reads: the bars and its dependencies' computed outputs."""

    @property
    def bars(self) -> BarArrays: ...

    @property
    def days(self) -> DayIndex:
        """New York trading-day boundaries of every bar (computed once per run)."""
        ...

    def series(self, ref: Ref) -> FloatArray:
        """A dependency's output over all bars (computed once per run, then shared)."""
        ...


def fmt_param(value: object) -> str:
    """Key spelling of a parameter: 2.0 -> "2", 2.5 -> "2.5" (repr, so never ambiguous)."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


@dataclass(frozen=True, slots=True, eq=False)
class IndicatorSpec:
    """Base of every spec.

    A new indicator is a subclass decorated `@dataclass(frozen=True, slots=True, eq=False)` (the
    base supplies equality and a cached hash from the key) that sets `name` (and `outputs` if it
    has several), declares its numeric parameters first and `source` last, and overrides what
    applies: `check` (validate, normalize), `params` (what the key spells), `lookback`, `deps`,
    `incremental` and `batch`.
    """

    name: ClassVar[str]
    outputs: ClassVar[tuple[str, ...]] = (VALUE,)
    _key: str = field(init=False, repr=False)
    _hash: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.check()
        key = self.make_key()
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_hash", hash((type(self).__qualname__, key)))

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        return (
            isinstance(other, IndicatorSpec)
            and type(other) is type(self)
            and other._key == self._key
        )

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[IndicatorSpec], tuple[object, ...]]:
        # Rebuild from the parameters: the cached hash is of a str, which differs between
        # processes, so it must never travel in a pickle (research fans out to processes).
        return type(self), tuple(getattr(self, f.name) for f in fields(self) if f.init)

    @property
    def key(self) -> str:
        return self._key

    def check(self) -> None:
        """Validate (and normalize) parameters; raise IndicatorParamError."""

    def params(self) -> tuple[object, ...]:
        """The parameters spelled in the key, in order (the source comes after, if not close)."""
        return ()

    def make_key(self) -> str:
        parts = [self.name, *(fmt_param(p) for p in self.params())]
        source = getattr(self, "source", "close")
        if source != "close":
            parts.append(str(source))
        return "_".join(parts)

    def deps(self) -> tuple[IndicatorSpec, ...]:
        """Specs whose outputs this one reads; they are materialized and updated first."""
        return ()

    @property
    def lookback(self) -> int | None:
        """Index of the first bar with a value (TA-Lib's lookback); None when it depends on
        timestamps (session indicators) rather than on the bar count."""
        return 0

    def out(self, name: str = VALUE) -> Output:
        """Address one output; `out()` on a single-output spec is its value."""
        return Output(self, name)

    def incremental(self, ctx: StepContext) -> Step:
        raise NotImplementedError

    def batch(self, ctx: BatchContext) -> dict[str, FloatArray]:
        raise NotImplementedError

    # Shared parameter checks -------------------------------------------------------------

    def _require_period(self, label: str, value: object, minimum: int = 1) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise IndicatorParamError(
                f"{self.name}: {label} must be an integer >= {minimum}, got {value!r}"
            )

    def _require_positive(self, label: str, value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise IndicatorParamError(f"{self.name}: {label} must be a number, got {value!r}")
        number = float(value)
        if not math.isfinite(number) or number <= 0.0:
            raise IndicatorParamError(f"{self.name}: {label} must be finite and > 0, got {value!r}")
        return number

    def _require_source(self, value: object) -> None:
        if value not in FIELDS:
            raise IndicatorParamError(
                f"{self.name}: source must be one of {', '.join(FIELDS)}, got {value!r}"
            )


@dataclass(frozen=True, slots=True)
class Output:
    """One addressable output of a spec, e.g. `Output(MACD(12, 26, 9), "signal")`."""

    spec: IndicatorSpec
    name: str = VALUE

    def __post_init__(self) -> None:
        if self.name not in self.spec.outputs:
            names = ", ".join(self.spec.outputs)
            raise IndicatorParamError(
                f"{self.spec.key} has no output {self.name!r}; it has {names}"
            )

    @property
    def key(self) -> str:
        """Column name: the spec key for a single-output spec, else `<spec key>_<output>`."""
        if len(self.spec.outputs) == 1:
            return self.spec.key
        return f"{self.spec.key}_{self.name}"


Ref: TypeAlias = IndicatorSpec | Output


def spec_of(ref: Ref) -> IndicatorSpec:
    return ref.spec if isinstance(ref, Output) else ref


def output_of(ref: Ref) -> Output:
    """The one output a ref stands for; a bare multi-output spec is ambiguous."""
    if isinstance(ref, Output):
        return ref
    if len(ref.outputs) != 1:
        names = ", ".join(ref.outputs)
        raise IndicatorParamError(f"{ref.key} has outputs {names}: address one of them")
    return Output(ref, ref.outputs[0])


def outputs_of(spec: IndicatorSpec) -> tuple[Output, ...]:
    return tuple(Output(spec, name) for name in spec.outputs)
