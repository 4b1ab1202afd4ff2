"""Which strategies a backtest runs, built from names and `key=value` parameters.

`select_strategies` is the one door, over the strategy catalog (app.strategies.catalog): no
name and no parameter is the catalog's default suite; otherwise each named built-in (every
built-in when none is named) is built from its parameters.

Parameters are text, as typed on the command line: `lookback=30` goes to every selected
strategy that has a `lookback`, `breakout.lookback=30` to one; `exit.stop_pct=2` (or
`breakout.exit.stop_pct=2`) changes the exit configuration. A value is read as JSON when it
is JSON (`30`, `2.5`, `true`), as text otherwise; the catalog checks it against the
parameter's type and range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from app.strategies.base import Strategy
from app.strategies.catalog import build_strategy, builtin_names, default_params, default_suite
from app.strategies.exit_codec import exit_from_dict

EXIT = "exit"


class UnknownStrategy(ValueError):
    """No built-in strategy of that name."""


class BadParam(ValueError):
    """A parameter that is malformed, unknown to the selected strategies, or refused."""


def select_strategies(names: Sequence[str], params: Mapping[str, str]) -> list[Strategy]:
    """The strategies to run, each with its parameters."""
    for name in names:
        if name not in builtin_names():
            raise UnknownStrategy(
                f"unknown strategy {name!r}; built-in: {', '.join(builtin_names())}"
            )
    if not names and not params:
        return default_suite()
    chosen = list(dict.fromkeys(names)) or list(builtin_names())
    scoped = _scope(chosen, params)
    return [_build(name, scoped[name]) for name in chosen]


def parse_params(pairs: Sequence[str]) -> dict[str, str]:
    """`key=value` texts into a mapping; raises BadParam for one without `=` or a key."""
    parsed: dict[str, str] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key.strip():
            raise BadParam(f"{pair!r}: expected key=value")
        parsed[key.strip()] = value.strip()
    return parsed


def _scope(chosen: list[str], params: Mapping[str, str]) -> dict[str, dict[str, str]]:
    scoped: dict[str, dict[str, str]] = {name: {} for name in chosen}
    for key, value in params.items():
        head, dot, rest = key.partition(".")
        if dot and head in builtin_names():
            if head not in scoped:
                raise BadParam(f"{key}: strategy {head!r} is not selected")
            scoped[head][rest] = value
            continue
        takers = [name for name in chosen if head == EXIT or head in default_params(name)]
        if not takers:
            raise BadParam(f"{key}: no selected strategy has a parameter {head!r}")
        for name in takers:
            scoped[name][key] = value
    return scoped


def _build(name: str, params: Mapping[str, str]) -> Strategy:
    plain = {k: _value(v) for k, v in params.items() if not k.startswith(f"{EXIT}.")}
    exits = {k[len(EXIT) + 1 :]: _value(v) for k, v in params.items() if k.startswith(f"{EXIT}.")}
    try:
        strategy = build_strategy(name, plain)
        if exits:
            strategy = build_strategy(name, plain, exit=exit_from_dict(exits, base=strategy.exit))
    except ValueError as exc:
        raise BadParam(str(exc)) from None
    return strategy


def _value(text: str) -> object:
    try:
        value: object = msgspec.json.decode(text)
    except msgspec.DecodeError:
        return text
    return value
