"""A discovered rule as data, so a mined rule is promoted to trading without writing code.

A rule is one or more phases of conditions. `conditions` is the first phase; each entry of
`phases` must then hold between its `min_gap` and `max_gap` bars (inclusive) after the phase
before it held. The rule fires on the bar its last phase holds. In JSON::

    {"name": "dip_then_reclaim",
     "conditions": [{"left": "rsi:14", "op": "<", "right": 30}],
     "phases": [{"min_gap": 1, "max_gap": 5,
                 "conditions": [{"left": "close", "op": "crosses_above", "right": "ema:9"}]}],
     "priority": 5, "confidence": 0.6, "accepts": ["fast"],
     "exit": {"stop_pct": 2.0, "targets": [{"pct": 4.0, "fraction": 1.0}]}}

An operand is a bar field (open, high, low, close, volume), an indicator in the text form of
app.indicators.grammar (e.g. "ema:9", "vwap", "slope:3:ema:9", "macd:12,26,9.hist"), or, on the
right only, a number. "vwap" is the session VWAP indicator, not the bar's own VWAP.
`crosses_above` holds on the bar where left > right after left <= right on the bar before
(`crosses_below` the mirror image); with no bar before, or a side undefined then, it does not.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final

import msgspec

from app.domain.detection import DetectionKind
from app.exits.config import ExitConfig
from app.indicators import parse_indicator
from app.indicators.spec import Output, output_of
from app.strategies.exit_codec import exit_from_dict

BAR_FIELDS: Final = ("open", "high", "low", "close", "volume")
COMPARISONS: Final = ("<", "<=", ">", ">=")
CROSSES: Final = ("crosses_above", "crosses_below")
OPERATORS: Final = (*COMPARISONS, *CROSSES)
MAX_GAP: Final = 10_000
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")


def parse_operand(text: str) -> str | Output:
    """A bar field's name, or the one indicator output the text names (ValueError if it
    names none, or a multi-output indicator without choosing an output)."""
    if text in BAR_FIELDS:
        return text
    return output_of(parse_indicator(text))


class Condition(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    left: str
    op: str
    right: str | float

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise ValueError(f"unknown operator {self.op!r}; use one of {', '.join(OPERATORS)}")
        parse_operand(self.left)
        if isinstance(self.right, str):
            parse_operand(self.right)
        elif not math.isfinite(self.right):
            raise ValueError(f"the constant must be finite, got {self.right!r}")

    def __str__(self) -> str:
        right = self.right if isinstance(self.right, str) else f"{self.right:g}"
        return f"{self.left} {self.op} {right}"


def _require_conditions(conditions: tuple[Condition, ...], where: str) -> None:
    if not conditions:
        raise ValueError(f"{where} has no conditions")


class Phase(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Conditions that must hold `min_gap`..`max_gap` bars after the previous phase held."""

    conditions: tuple[Condition, ...]
    min_gap: int = 1
    max_gap: int = 10

    def __post_init__(self) -> None:
        _require_conditions(self.conditions, "a phase")
        if not 1 <= self.min_gap <= self.max_gap <= MAX_GAP:
            raise ValueError(
                f"a phase needs 1 <= min_gap <= max_gap <= {MAX_GAP}, "
                f"got min_gap={self.min_gap}, max_gap={self.max_gap}"
            )


class Rule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    conditions: tuple[Condition, ...]
    phases: tuple[Phase, ...] = ()
    priority: int = 5
    confidence: float = 0.5
    accepts: frozenset[DetectionKind] = frozenset()
    interval_s: int = 60
    exit: ExitConfig = msgspec.field(default_factory=ExitConfig)

    def __post_init__(self) -> None:
        if _NAME.fullmatch(self.name) is None:
            raise ValueError(
                f"rule name {self.name!r} must be 1-64 letters, digits, '_', '.', ':' or '-', "
                "starting with a letter or digit"
            )
        _require_conditions(self.conditions, f"rule {self.name!r}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], got {self.confidence!r}")
        if self.interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {self.interval_s}")

    @property
    def all_phases(self) -> tuple[tuple[Condition, ...], ...]:
        """Every phase's conditions in order, the first being `conditions`."""
        return (self.conditions, *(phase.conditions for phase in self.phases))


def rule_from_dict(data: Mapping[str, object]) -> Rule:
    """Parse a rule; ValueError says where it is wrong (e.g. `$.phases[0].conditions[1]`)."""
    if not isinstance(data, Mapping):
        raise ValueError(f"invalid rule: expected an object, got {type(data).__name__}")
    body: dict[str, object] = {key: value for key, value in data.items() if key != "exit"}
    if "exit" in data:
        exit_data = data["exit"]
        if not isinstance(exit_data, Mapping):
            raise ValueError(f"invalid rule: exit must be an object, got {exit_data!r}")
        try:
            body["exit"] = exit_from_dict(exit_data)
        except ValueError as error:
            raise ValueError(f"invalid rule: {error}") from None
    try:
        return msgspec.convert(body, Rule)
    except msgspec.ValidationError as error:
        raise ValueError(f"invalid rule: {error}") from None


def rule_from_json(text: str | bytes) -> Rule:
    try:
        data = msgspec.json.decode(text)
    except msgspec.DecodeError as error:
        raise ValueError(f"invalid rule: not JSON ({error})") from None
    return rule_from_dict(data)


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    """Plain JSON types, sets sorted, so equal rules give equal documents."""
    result: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(rule, order="deterministic"))
    return result
