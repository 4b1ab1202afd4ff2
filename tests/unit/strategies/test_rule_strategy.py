"""A discovered rule traded as data: conditions, crossings, phases and their timing gaps."""

from collections.abc import Sequence
from typing import Any

import pytest

from app.domain.detection import DetectionKind
from app.domain.market import Session
from app.strategies.rule import rule_from_dict
from app.strategies.rule_strategy import RuleStrategy
from tests.unit.strategies.feed import Feed, assert_entry, at, held


def _strategy(conditions: list[dict[str, Any]], **rest: Any) -> RuleStrategy:
    return RuleStrategy(rule_from_dict({"name": "r1", "conditions": conditions, **rest}))


def _fired(strategy: RuleStrategy, closes: Sequence[float]) -> list[int]:
    """Indices of the bars (one a minute, flat at their close) on which the rule fired."""
    feed = Feed(strategy)
    return [i for i, c in enumerate(closes) if feed(at(i, o=c, c=c)) is not None]


def _cond(left: str, op: str, right: str | float) -> dict[str, Any]:
    return {"left": left, "op": op, "right": right}


def test_demands_exactly_the_indicators_its_conditions_read() -> None:
    strategy = _strategy(
        [_cond("rsi:14", "<", 30), _cond("volume", ">", "sma:20@volume")],
        phases=[{"conditions": [_cond("close", "crosses_above", "ema:9"), _cond("ema:9", ">", 1)]}],
    )
    assert [ref.key for ref in strategy.indicators] == ["rsi_14", "sma_20_volume", "ema_9"]


def test_takes_name_priority_accepts_exit_and_interval_from_the_rule() -> None:
    strategy = _strategy(
        [_cond("close", ">", 1)], priority=9, accepts=["fast"], interval_s=300, exit={"stop_pct": 1}
    )
    assert strategy.name == "r1" and strategy.priority == 9 and strategy.interval_s == 300
    assert strategy.accepts == frozenset({DetectionKind.FAST})
    assert strategy.exit.stop_pct == 1
    assert Feed(strategy)(at(0, o=10, c=10)) is None  # a one-minute bar is not its interval


def test_single_phase_fires_when_its_conditions_hold_and_its_indicators_are_ready() -> None:
    strategy = _strategy([_cond("close", ">", "sma:3")], confidence=0.7, priority=6)
    feed = Feed(strategy)
    feed.quiet([at(0, o=10, c=10), at(1, o=11, c=11)])  # above, but the SMA is not ready
    assert feed(at(2, o=10, c=10)) is None  # 10 vs sma (10 + 11 + 10) / 3
    signal = assert_entry(feed(at(3, o=10.5, c=11.5)), strategy="r1", price=11.5)
    assert signal.confidence == 0.7 and signal.priority == 6
    assert signal.reason.startswith("rule r1: close 11.5 > sma_3 ")
    assert "sma_3" in signal.indicators


def test_crosses_above_holds_on_the_bar_of_the_cross_only() -> None:
    strategy = _strategy([_cond("close", "crosses_above", 10)])
    assert _fired(strategy, [10.5, 9.8, 9.9, 10.1, 10.2, 9.9, 10.0, 10.05]) == [3, 7]


def test_crosses_below_is_the_mirror_image() -> None:
    strategy = _strategy([_cond("close", "crosses_below", 10)])
    assert _fired(strategy, [9.5, 10.2, 10.1, 9.9, 9.8, 10.1, 10.0, 9.95]) == [3, 7]


def test_crosses_between_two_series() -> None:
    strategy = _strategy([_cond("close", "crosses_above", "sma:2")])
    # sma:2 is ready from bar 1; its first difference is on bar 1, so bar 1 cannot cross.
    assert _fired(strategy, [10, 9, 9, 8, 10, 11, 12, 9, 11]) == [4, 8]


TWO_PHASES = {
    "conditions": [_cond("close", "<", 9.5)],
    "phases": [{"min_gap": 2, "max_gap": 4, "conditions": [_cond("close", ">", 10)]}],
}


@pytest.mark.parametrize(
    ("closes", "fired"),
    [
        ([9.4, 10.1, 9.9, 9.9, 9.9, 9.9], []),  # 1 bar after: too soon
        ([9.4, 9.9, 10.1], [2]),  # 2 bars after: the earliest allowed
        ([9.4, 9.9, 9.9, 9.9, 10.1], [4]),  # 4 bars after: the latest allowed
        ([9.4, 9.9, 9.9, 9.9, 9.9, 10.1], []),  # 5 bars after: too late
        ([9.4, 9.4, 10.1], [2]),  # 2 after the first phase-1 bar, though 1 after the second
        ([9.4, 9.9, 9.9, 9.4, 9.9, 10.1], [5]),  # 5 after the first, 2 after the second
        ([9.4, 9.9, 10.1, 10.1, 10.1], [2]),  # used up: phase 1 must hold again
        ([9.4, 9.9, 10.1, 9.4, 9.9, 10.1], [2, 5]),  # and then it can fire again
    ],
)
def test_phases_fire_only_when_their_gaps_are_respected(
    closes: list[float], fired: list[int]
) -> None:
    assert _fired(_strategy(**TWO_PHASES), closes) == fired


def test_three_phases_each_timed_from_the_one_before() -> None:
    phases = [
        {"min_gap": 1, "max_gap": 2, "conditions": [_cond("close", ">", 10)]},
        {"min_gap": 1, "max_gap": 1, "conditions": [_cond("close", "<", 9.9)]},
    ]
    strategy = _strategy([_cond("close", "<", 9.5)], phases=phases)
    assert _fired(strategy, [9.4, 10.1, 9.8]) == [2]
    assert _fired(strategy, [9.4, 9.6, 10.1, 9.8]) == [3]
    assert _fired(strategy, [9.4, 10.1, 10.0, 9.8]) == []  # the third phase came 2 bars late
    assert _fired(strategy, [9.4, 9.6, 9.6, 10.1, 9.8]) == []  # the second phase came late


def test_the_reason_spells_the_phases() -> None:
    feed = Feed(_strategy(**TWO_PHASES))
    feed.quiet([at(0, o=9.4, c=9.4), at(1, o=9.9, c=9.9), at(2, o=9.9, c=9.9)])
    signal = assert_entry(feed(at(3, o=10.2, c=10.2)), strategy="r1", price=10.2)
    assert signal.reason == "rule r1: (close < 9.5), then 3 bars later: close 10.2 > 10"
    assert signal.indicators == {"close": 10.2}  # the bar fields it read, for the audit


def test_not_in_the_pre_market_and_the_sequence_is_used_up_there() -> None:
    feed = Feed(_strategy(**TWO_PHASES))
    feed.quiet([at(0, o=9.4, c=9.4), at(1, o=9.9, c=9.9)])
    assert feed(at(2, o=10.1, c=10.1, session=Session.PRE)) is None
    assert feed(at(3, o=10.1, c=10.1)) is None


def test_not_when_holding() -> None:
    feed = Feed(_strategy(**TWO_PHASES))
    feed.quiet([at(0, o=9.4, c=9.4), at(1, o=9.9, c=9.9)])
    assert feed(at(2, o=10.1, c=10.1), held("r1")) is None


def test_each_symbol_keeps_its_own_sequence() -> None:
    feed = Feed(_strategy(**TWO_PHASES))
    feed.quiet([at(0, o=9.4, c=9.4), at(1, o=9.9, c=9.9)])
    feed.quiet([at(0, o=9.9, c=9.9, symbol="XYZ"), at(1, o=9.9, c=9.9, symbol="XYZ")])
    assert feed(at(2, o=10.1, c=10.1, symbol="XYZ")) is None
    assert feed(at(2, o=10.1, c=10.1)) is not None
