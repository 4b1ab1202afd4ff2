"""ExitConfig to and from a JSON-able dict, as stored with a strategy's configuration.

`exit_from_dict` lays the given keys over a base (the strategy's own exit configuration, or
the ExitConfig defaults), so an operator who edits only `stop_pct` keeps the rest. `targets`,
when given, replaces the whole ladder. Unknown keys are errors, not silently dropped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import msgspec

from app.exits.config import ExitConfig, Target

_EXIT_KEYS = frozenset(f.name for f in dataclasses.fields(ExitConfig))
_TARGET_KEYS = frozenset(f.name for f in dataclasses.fields(Target))


def exit_to_dict(config: ExitConfig) -> dict[str, Any]:
    """Plain JSON types only (lists, not tuples), so it equals what comes back from a JSON
    column."""
    result: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(config))
    return result


def exit_from_dict(data: Mapping[str, object], *, base: ExitConfig | None = None) -> ExitConfig:
    """Parse an exit configuration; ValueError says which key is wrong and why."""
    if not isinstance(data, Mapping):
        raise ValueError(f"exit: expected an object, got {type(data).__name__}")
    _refuse_unknown("exit", data, _EXIT_KEYS)
    targets = data.get("targets")
    if isinstance(targets, list | tuple):
        for i, target in enumerate(targets):
            if isinstance(target, Mapping):
                _refuse_unknown(f"exit.targets[{i}]", target, _TARGET_KEYS)
    merged = {**exit_to_dict(base if base is not None else ExitConfig()), **data}
    try:
        return msgspec.convert(merged, ExitConfig)
    except msgspec.ValidationError as error:
        raise ValueError(f"exit: {error}") from None


def _refuse_unknown(where: str, data: Mapping[str, object], known: frozenset[str]) -> None:
    unknown = sorted(str(key) for key in data if key not in known)
    if unknown:
        raise ValueError(
            f"{where}: unknown key {', '.join(map(repr, unknown))}; known: "
            f"{', '.join(sorted(known))}"
        )
