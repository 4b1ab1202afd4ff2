"""The catalog: building strategies from stored configuration, and the default suite."""

import json
from typing import Any

import pytest

from app.domain.strategy_config import StrategyConfig
from app.exits.config import ExitConfig, Target
from app.strategies.breakout import Breakout
from app.strategies.catalog import (
    RULE,
    STRATEGIES,
    BuiltIn,
    build_configured,
    build_strategy,
    builtin_names,
    default_configs,
    default_params,
    default_suite,
)
from app.strategies.momentum import Momentum, MomentumParams
from app.strategies.rule_strategy import RuleStrategy

RULE_PARAMS: dict[str, Any] = {
    "name": "mined_7",
    "conditions": [{"left": "close", "op": "crosses_above", "right": "vwap"}],
    "priority": 4,
}


def test_every_built_in_round_trips_through_its_json_default_params() -> None:
    for kind in builtin_names():
        params = json.loads(json.dumps(default_params(kind)))
        assert params == default_params(kind)
        entry = STRATEGIES[kind]
        assert isinstance(entry, BuiltIn)
        assert entry.parse(params) == entry.params_type()
        assert build_strategy(kind, params).name == kind


def test_the_suite_holds_every_built_in_with_distinct_names_and_suite_priorities() -> None:
    suite = default_suite()
    names = [s.name for s in suite]
    assert names == list(builtin_names())
    assert len(set(names)) == len(names) == 10
    priorities = {s.name: s.priority for s in suite}
    assert priorities == {
        "high_of_day": 30,
        "opening_range": 30,
        "momentum_fast": 25,
        "momentum_slow": 25,
        "breakout": 20,
        "consolidation_breakout": 20,
        "pullback_ema": 15,
        "pullback_vwap": 15,
        "vwap_reclaim": 10,
        "prior_close_reclaim": 10,
    }
    assert any(isinstance(s, Breakout) for s in suite)
    assert RULE in STRATEGIES and RULE not in builtin_names()


def test_params_override_defaults_and_name_priority_exit_override_the_strategy() -> None:
    exit = ExitConfig(stop_pct=1.5, targets=(Target(3.0, 1.0),))
    strategy = build_strategy(
        "momentum_fast", {"min_rvol": 4, "roc_period": 7}, name="mf2", priority=99, exit=exit
    )
    assert isinstance(strategy, Momentum)
    assert strategy.params == MomentumParams(min_rvol=4.0, roc_period=7, exit=exit)
    assert (strategy.name, strategy.priority, strategy.exit) == ("mf2", 99, exit)
    assert strategy.params.min_rvol == 4.0 and isinstance(strategy.params.min_rvol, float)


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("nope", {}, "unknown strategy 'nope'; known: breakout"),
        ("breakout", {"lookbak": 5}, "breakout: unknown parameter 'lookbak'; known: lookback"),
        ("breakout", {"exit": {}}, "exit is configured apart from params"),
        ("breakout", {"lookback": "5"}, r"breakout: Expected `int`, got `str` - at `\$.lookback`"),
        ("breakout", {"lookback": 5.0}, r"Expected `int`, got `float` - at `\$.lookback`"),
        ("momentum_fast", {"min_rvol": True}, r"got `bool` - at `\$.min_rvol`"),
        ("breakout", {"lookback": 1}, "breakout: lookback must be at least 2"),
        ("momentum_fast", {"fast_ema": 30}, "momentum_fast: fast_ema .30. must be shorter"),
        ("pullback_ema", {"min_run_pct": -1}, "pullback_ema: min_run_pct must be a finite"),
        ("high_of_day", {"include_premarket": 1}, "Expected `bool`, got `int`"),
        ("opening_range", [], "params must be an object"),
        (RULE, {"name": "x", "conditions": []}, "invalid rule: rule 'x' has no conditions"),
    ],
)
def test_bad_params_name_what_is_wrong(kind: str, params: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_strategy(kind, params)


def test_a_rule_is_built_from_its_document_with_overrides() -> None:
    strategy = build_strategy(RULE, RULE_PARAMS)
    assert isinstance(strategy, RuleStrategy)
    assert (strategy.name, strategy.priority) == ("mined_7", 4)
    exit = ExitConfig(stop_pct=1.0)
    renamed = build_strategy(RULE, RULE_PARAMS, name="live_7", priority=12, exit=exit)
    assert (renamed.name, renamed.priority, renamed.exit) == ("live_7", 12, exit)
    with pytest.raises(ValueError, match="no default parameters"):
        default_params(RULE)


def test_a_stored_configuration_builds_its_strategy() -> None:
    config = StrategyConfig(
        name="hod_tight",
        kind="high_of_day",
        priority=40,
        params={"min_rvol": 3.5},
        exit={"stop_pct": 1.5},
    )
    strategy = build_configured(config)
    own = build_strategy("high_of_day", {}).exit
    assert (strategy.name, strategy.priority) == ("hod_tight", 40)
    # Only the exit keys it names change; the rest is the strategy's own exit configuration.
    assert strategy.exit.stop_pct == 1.5
    assert strategy.exit.targets == own.targets and strategy.exit.trailing_pct == own.trailing_pct
    with pytest.raises(ValueError, match="unknown key 'stopp'"):
        build_configured(StrategyConfig(name="x", kind="breakout", exit={"stopp": 1}))


def test_default_configs_seed_the_default_suite() -> None:
    configs = default_configs()
    assert [c.name for c in configs] == list(builtin_names())
    built = [build_configured(c) for c in configs]
    suite = default_suite()
    assert [(s.name, s.priority, s.exit) for s in built] == [
        (s.name, s.priority, s.exit) for s in suite
    ]
