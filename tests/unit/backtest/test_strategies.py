from __future__ import annotations

import pytest

from app.backtest.strategies import BadParam, UnknownStrategy, parse_params, select_strategies
from app.strategies.breakout import Breakout
from app.strategies.catalog import builtin_names


def test_no_name_and_no_parameter_is_the_default_suite() -> None:
    assert [s.name for s in select_strategies([], {})] == list(builtin_names())


def test_parameters_reach_the_strategies_that_have_them() -> None:
    chosen = select_strategies(
        ["breakout", "high_of_day"], parse_params(["lookback=30", "breakout.exit.stop_pct=2"])
    )

    breakout = chosen[0]
    assert isinstance(breakout, Breakout)
    assert breakout.params.lookback == 30
    assert breakout.exit.stop_pct == 2.0
    assert chosen[1].exit.stop_pct != 2.0


@pytest.mark.parametrize(
    ("names", "pairs", "error", "message"),
    [
        (["nope"], [], UnknownStrategy, "unknown strategy 'nope'"),
        (["breakout"], ["lookback"], BadParam, "expected key=value"),
        (["breakout"], ["zzz=1"], BadParam, "no selected strategy has a parameter 'zzz'"),
        (["breakout"], ["lookback=x"], BadParam, "Expected `int`"),
        (["breakout"], ["lookback=1"], BadParam, "lookback must be at least 2"),
        (["breakout"], ["exit.stop_pct=200"], BadParam, "stop_pct must be in"),
        (["breakout"], ["high_of_day.lookback=3"], BadParam, "is not selected"),
    ],
)
def test_bad_selections_say_what_is_wrong(
    names: list[str], pairs: list[str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        select_strategies(names, parse_params(pairs))
