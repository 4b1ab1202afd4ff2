"""Parsing a discovered rule from data."""

import json
from typing import Any

import pytest

from app.domain.detection import DetectionKind
from app.exits.config import ExitConfig, Target
from app.strategies.rule import Condition, Phase, Rule, rule_from_dict, rule_from_json, rule_to_dict

GOOD: dict[str, Any] = {
    "name": "dip_then_reclaim",
    "conditions": [{"left": "rsi:14", "op": "<", "right": 30}],
    "phases": [
        {
            "min_gap": 1,
            "max_gap": 5,
            "conditions": [
                {"left": "close", "op": "crosses_above", "right": "ema:9"},
                {"left": "slope:3:macd:12,26,9.hist", "op": ">", "right": 0},
            ],
        }
    ],
    "priority": 7,
    "confidence": 0.6,
    "accepts": ["slow", "fast"],
    "exit": {"stop_pct": 2.0, "targets": [{"pct": 4.0, "fraction": 1.0}]},
}


def _with(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


def test_parses_a_rule_with_phases_accepts_and_exit() -> None:
    rule = rule_from_dict(GOOD)
    assert rule.name == "dip_then_reclaim"
    assert rule.conditions == (Condition("rsi:14", "<", 30.0),)
    assert rule.phases[0].min_gap == 1 and rule.phases[0].max_gap == 5
    assert rule.phases[0].conditions[0] == Condition("close", "crosses_above", "ema:9")
    assert rule.priority == 7 and rule.confidence == 0.6
    assert rule.accepts == frozenset({DetectionKind.FAST, DetectionKind.SLOW})
    assert rule.exit == ExitConfig(stop_pct=2.0, targets=(Target(4.0, 1.0),))
    assert len(rule.all_phases) == 2


def test_defaults_for_what_is_left_out() -> None:
    rule = rule_from_dict({"name": "r", "conditions": [{"left": "close", "op": ">", "right": 5}]})
    assert rule.phases == () and rule.priority == 5 and rule.accepts == frozenset()
    assert rule.exit == ExitConfig() and rule.interval_s == 60


def test_round_trips_through_a_json_document() -> None:
    rule = rule_from_dict(GOOD)
    document = rule_to_dict(rule)
    assert document["accepts"] == ["fast", "slow"]  # sorted: equal rules, equal documents
    assert rule_from_json(json.dumps(document)) == rule
    assert rule_from_dict(document) == rule


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_with(conditions=[]), "has no conditions"),
        (_with(phases=[{"conditions": []}]), r"phase has no conditions - at `\$.phases\[0\]`"),
        (
            _with(conditions=[{"left": "frob:3", "op": "<", "right": 1}]),
            r"unknown indicator 'frob'.*at `\$.conditions\[0\]`",
        ),
        (_with(conditions=[{"left": "rsi:14", "op": "==", "right": 1}]), "unknown operator '=='"),
        (
            _with(conditions=[{"left": "rsi:14", "op": "<", "right": "rsi:x"}]),
            "cannot parse indicator",
        ),
        (_with(conditions=[{"left": "ema:2.5", "op": ">", "right": 0}]), "must be an integer"),
        (_with(conditions=[{"left": "macd", "op": ">", "right": 0}]), "address one of them"),
        (_with(conditions=[{"left": "rsi:14", "op": "<"}]), "missing required field `right`"),
        (_with(conditions=[{"left": "rsi:14", "op": "<", "right": True}]), "got `bool`"),
        (_with(conditions=[{"left": 3, "op": "<", "right": 1}]), r"\$.conditions\[0\].left"),
        (_with(phases=[{"conditions": GOOD["conditions"], "min_gap": 4, "max_gap": 2}]), "min_gap"),
        (_with(phases=[{"conditions": GOOD["conditions"], "min_gap": 0}]), "min_gap"),
        (_with(name=""), "rule name"),
        (_with(name="a|b"), "rule name"),
        (_with(confidence=1.5), "confidence"),
        (_with(accepts=["medium"]), "Invalid enum value 'medium'"),
        (_with(exit={"stop_pct": 200}), "stop_pct"),
        (_with(exit={"stop": 2}), "unknown key 'stop'"),
        (_with(exit=[1]), "exit must be an object"),
        (_with(colour="red"), "unknown field `colour`"),
        ({"conditions": GOOD["conditions"]}, "missing required field `name`"),
        ({}, "missing required field"),
    ],
)
def test_bad_rules_are_refused_with_a_clear_error(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rule_from_dict(data)


def test_not_an_object_or_not_json() -> None:
    with pytest.raises(ValueError, match="expected an object"):
        rule_from_json("[1, 2]")
    with pytest.raises(ValueError, match="not JSON"):
        rule_from_json("{name: ")


def test_built_in_code_too() -> None:
    with pytest.raises(ValueError, match="no conditions"):
        Phase(conditions=())
    rule = Rule("r", (Condition("close", ">", "vwap"),))
    assert str(rule.conditions[0]) == "close > vwap"
