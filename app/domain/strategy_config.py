"""A strategy's stored configuration: what the operator edits, applied without a restart."""

from __future__ import annotations

from typing import Any

import msgspec


class StrategyConfig(msgspec.Struct, frozen=True):
    """`kind` names the implementation in the strategy catalog (a built-in, or "rule" for a
    discovered rule given as data in `params`); `name` is the instance, unique. `priority`
    None keeps the strategy's own; `exit` None keeps its own exit configuration. `version`
    grows with every edit, so watchers notice a change by comparing one number."""

    name: str
    kind: str
    enabled: bool = True
    priority: int | None = None
    params: dict[str, Any] = {}
    exit: dict[str, Any] | None = None
    version: int = 0
    updated_ns: int = 0
