"""Where strategy configuration lives: the database, so every process sees the same edits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from app.domain.strategy_config import StrategyConfig


class StrategyConfigStore(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def all(self) -> list[StrategyConfig]:
        """Every stored configuration, by name."""
        ...

    async def get(self, name: str) -> StrategyConfig | None: ...

    async def seed(self, configs: Sequence[StrategyConfig], *, now_ns: int) -> int:
        """Insert the configurations not stored yet (never overwriting an edit); returns how
        many were inserted."""
        ...

    async def save(self, config: StrategyConfig, *, now_ns: int) -> StrategyConfig:
        """Store an edit under a new version (one above the highest stored) and return it."""
        ...

    async def version(self) -> int:
        """The highest version stored (0 when empty): changes whenever anything is edited."""
        ...
