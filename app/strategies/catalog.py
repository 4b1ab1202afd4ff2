"""The strategy catalog: every strategy kind by name, built from stored configuration.

A configuration (app.domain.strategy_config.StrategyConfig) names a `kind` from STRATEGIES, an
instance `name`, JSON `params`, and optionally a priority and an exit configuration that
replace the strategy's own. Built-in kinds parse `params` into their frozen parameter
dataclass: a key it does not have, a value of the wrong type or out of range is a ValueError
that names the kind and the key. The "rule" kind takes the rule itself as `params`
(app.strategies.rule). `enabled` is not the catalog's business: a disabled strategy still runs,
so its state stays warm, and the arbiter refuses its signals (StrategyPolicy).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Generic, Protocol, TypeVar

import msgspec

from app.domain.strategy_config import StrategyConfig
from app.exits.config import ExitConfig
from app.strategies.base import Strategy
from app.strategies.breakout import Breakout, BreakoutParams
from app.strategies.consolidation_breakout import (
    ConsolidationBreakout,
    ConsolidationBreakoutParams,
)
from app.strategies.exit_codec import exit_from_dict
from app.strategies.high_of_day import HighOfDay, HighOfDayParams
from app.strategies.momentum import Momentum, MomentumParams, SlowMomentum, SlowMomentumParams
from app.strategies.opening_range import OpeningRange, OpeningRangeParams
from app.strategies.prior_close_reclaim import PriorCloseReclaim, PriorCloseReclaimParams
from app.strategies.pullback_ema import PullbackEma, PullbackEmaParams
from app.strategies.pullback_vwap import PullbackVwap, PullbackVwapParams
from app.strategies.rule import rule_from_dict
from app.strategies.rule_strategy import RuleStrategy
from app.strategies.vwap_reclaim import VwapReclaim, VwapReclaimParams

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

P = TypeVar("P", bound="DataclassInstance")
P_contra = TypeVar("P_contra", bound="DataclassInstance", contravariant=True)

RULE: Final = "rule"


class StrategyKind(Protocol):
    def build(
        self,
        params: Mapping[str, object],
        *,
        name: str | None = None,
        priority: int | None = None,
        exit: ExitConfig | None = None,
    ) -> Strategy: ...


class _Factory(Protocol[P_contra]):
    def __call__(self, params: P_contra, /, *, name: str, priority: int) -> Strategy: ...


@dataclass(frozen=True, slots=True)
class BuiltIn(Generic[P]):
    """A strategy written in code, with its parameter dataclass and its suite priority."""

    kind: str
    params_type: type[P]
    factory: _Factory[P]
    priority: int

    def parse(self, params: Mapping[str, object]) -> P:
        if not isinstance(params, Mapping):
            raise ValueError(f"{self.kind}: params must be an object, got {params!r}")
        known = [f.name for f in dataclasses.fields(self.params_type) if f.name != "exit"]
        unknown = sorted(str(key) for key in params if key not in known)
        if unknown:
            hint = " (exit is configured apart from params)" if "exit" in unknown else ""
            raise ValueError(
                f"{self.kind}: unknown parameter {', '.join(map(repr, unknown))}{hint}; "
                f"known: {', '.join(known)}"
            )
        try:
            return msgspec.convert(dict(params), self.params_type)
        except msgspec.ValidationError as error:
            raise ValueError(f"{self.kind}: {error}") from None

    def build(
        self,
        params: Mapping[str, object],
        *,
        name: str | None = None,
        priority: int | None = None,
        exit: ExitConfig | None = None,
    ) -> Strategy:
        parsed = self.parse(params)
        if exit is not None:
            parsed = dataclasses.replace(parsed, exit=exit)
        return self.factory(
            parsed,
            name=self.kind if name is None else name,
            priority=self.priority if priority is None else priority,
        )

    def default_params(self) -> dict[str, Any]:
        """Every parameter at its default, as JSON types (the exit configuration apart)."""
        defaults = msgspec.json.decode(msgspec.json.encode(self.params_type()))
        return {key: value for key, value in defaults.items() if key != "exit"}


@dataclass(frozen=True, slots=True)
class RuleKind:
    """A discovered rule: `params` is the rule document; name, priority and exit, when given,
    replace the rule's own."""

    def build(
        self,
        params: Mapping[str, object],
        *,
        name: str | None = None,
        priority: int | None = None,
        exit: ExitConfig | None = None,
    ) -> Strategy:
        rule = rule_from_dict(params)
        rule = msgspec.structs.replace(
            rule,
            name=rule.name if name is None else name,
            priority=rule.priority if priority is None else priority,
            exit=rule.exit if exit is None else exit,
        )
        return RuleStrategy(rule)


_BUILT_INS: Final[tuple[BuiltIn[Any], ...]] = (
    BuiltIn("high_of_day", HighOfDayParams, HighOfDay, 30),
    BuiltIn("opening_range", OpeningRangeParams, OpeningRange, 30),
    BuiltIn("momentum_fast", MomentumParams, Momentum, 25),
    BuiltIn("momentum_slow", SlowMomentumParams, SlowMomentum, 25),
    BuiltIn("breakout", BreakoutParams, Breakout, 20),
    BuiltIn("consolidation_breakout", ConsolidationBreakoutParams, ConsolidationBreakout, 20),
    BuiltIn("pullback_ema", PullbackEmaParams, PullbackEma, 15),
    BuiltIn("pullback_vwap", PullbackVwapParams, PullbackVwap, 15),
    BuiltIn("vwap_reclaim", VwapReclaimParams, VwapReclaim, 10),
    BuiltIn("prior_close_reclaim", PriorCloseReclaimParams, PriorCloseReclaim, 10),
)

STRATEGIES: Final[Mapping[str, StrategyKind]] = MappingProxyType(
    {**{b.kind: b for b in _BUILT_INS}, RULE: RuleKind()}
)


def _kind(kind: str) -> StrategyKind:
    found = STRATEGIES.get(kind)
    if found is None:
        raise ValueError(f"unknown strategy {kind!r}; known: {', '.join(sorted(STRATEGIES))}")
    return found


def build_strategy(
    kind: str,
    params: Mapping[str, object],
    *,
    name: str | None = None,
    priority: int | None = None,
    exit: ExitConfig | None = None,
) -> Strategy:
    """Build one strategy of `kind` (a key of STRATEGIES). `name` is the instance name (the
    kind's, or the rule's, when None); `priority` and `exit` replace the strategy's own."""
    return _kind(kind).build(params, name=name, priority=priority, exit=exit)


def build_configured(config: StrategyConfig) -> Strategy:
    """Build from a stored configuration; its `exit` keys are laid over the strategy's own
    exit configuration, so a partial one changes only what it names."""
    strategy = build_strategy(
        config.kind, config.params, name=config.name, priority=config.priority
    )
    if config.exit is None:
        return strategy
    exit = exit_from_dict(config.exit, base=strategy.exit)
    return build_strategy(
        config.kind, config.params, name=config.name, priority=config.priority, exit=exit
    )


def builtin_names() -> tuple[str, ...]:
    """The kinds written in code, highest suite priority first (the rule kind is not one)."""
    return tuple(b.kind for b in _BUILT_INS)


def default_params(kind: str) -> dict[str, Any]:
    """A built-in's parameters at their defaults, JSON-able; `build_strategy(kind, that)` is
    the default strategy."""
    found = _kind(kind)
    if not isinstance(found, BuiltIn):
        raise ValueError(f"{kind!r} has no default parameters: its params are the rule itself")
    return found.default_params()


def default_suite() -> list[Strategy]:
    """Every built-in at its defaults and suite priority, each under its kind's name."""
    return [b.build({}) for b in _BUILT_INS]


def default_configs() -> list[StrategyConfig]:
    """The configuration rows that seed an empty store: every built-in at its defaults (its
    own priority and exit, so later code changes to those defaults still apply)."""
    return [StrategyConfig(name=b.kind, kind=b.kind, params=b.default_params()) for b in _BUILT_INS]
