"""`SqlStrategyConfigStore`: strategy configuration rows, versioned so edits are noticed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.domain.strategy_config import StrategyConfig
from app.persistence.migrate import open_at_head
from app.persistence.statements import insert_new, upsert
from app.persistence.tables import strategy_configs

_SEED_ATTEMPTS = 20


class SqlStrategyConfigStore:
    """The `StrategyConfigStore` port over SQLAlchemy. No I/O in the constructor."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._engine: AsyncEngine | None = None

    async def start(self) -> None:
        if self._engine is None:
            self._engine = await open_at_head(self._url, what="strategy configuration")

    async def close(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.dispose()

    @property
    def _db(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("SqlStrategyConfigStore.start() was not awaited")
        return self._engine

    async def all(self) -> list[StrategyConfig]:
        async with self._db.connect() as connection:
            rows = await connection.execute(
                select(strategy_configs).order_by(strategy_configs.c.name)
            )
            return [_config(row) for row in rows.mappings().all()]

    async def get(self, name: str) -> StrategyConfig | None:
        async with self._db.connect() as connection:
            row = (
                (
                    await connection.execute(
                        select(strategy_configs).where(strategy_configs.c.name == name)
                    )
                )
                .mappings()
                .first()
            )
        return None if row is None else _config(row)

    async def seed(self, configs: Sequence[StrategyConfig], *, now_ns: int) -> int:
        """Every process of a deployment seeds at start, at once on a first start: writes are
        attempted only when something is missing, and a writer that finds SQLite busy retries
        (the others' inserts make its own a no-op)."""
        stored = {config.name for config in await self.all()}
        missing = [config for config in configs if config.name not in stored]
        for attempt in range(_SEED_ATTEMPTS):
            if not missing:
                return 0
            try:
                return await self._insert_missing(missing, now_ns=now_ns)
            except OperationalError as exc:
                if attempt + 1 == _SEED_ATTEMPTS or "locked" not in str(exc):
                    raise
                await asyncio.sleep(0.05 * (attempt + 1))
        return 0

    async def _insert_missing(self, configs: Sequence[StrategyConfig], *, now_ns: int) -> int:
        inserted = 0
        async with self._db.begin() as connection:
            version = await _max_version(connection)
            for config in configs:
                row = _row(config, version=version + 1, now_ns=now_ns)
                result = await connection.execute(
                    insert_new(
                        connection.dialect, strategy_configs, row, key=[strategy_configs.c.name]
                    )
                )
                if result.rowcount:
                    inserted += 1
                    version += 1
        return inserted

    async def save(self, config: StrategyConfig, *, now_ns: int) -> StrategyConfig:
        async with self._db.begin() as connection:
            version = await _max_version(connection) + 1
            row = _row(config, version=version, now_ns=now_ns)
            await connection.execute(
                upsert(connection.dialect, strategy_configs, row, key=[strategy_configs.c.name])
            )
        return _config(row)

    async def version(self) -> int:
        async with self._db.connect() as connection:
            return await _max_version(connection)


async def _max_version(connection: AsyncConnection) -> int:
    result = await connection.execute(select(func.max(strategy_configs.c.version)))
    return int(result.scalar() or 0)


def _row(config: StrategyConfig, *, version: int, now_ns: int) -> dict[str, Any]:
    return {
        "name": config.name,
        "kind": config.kind,
        "enabled": config.enabled,
        "priority": config.priority,
        "params": dict(config.params),
        "exit": None if config.exit is None else dict(config.exit),
        "version": version,
        "updated_ns": now_ns,
    }


def _config(row: RowMapping | dict[str, Any]) -> StrategyConfig:
    return StrategyConfig(
        name=row["name"],
        kind=row["kind"],
        enabled=bool(row["enabled"]),
        priority=row["priority"],
        params=dict(row["params"]),
        exit=None if row["exit"] is None else dict(row["exit"]),
        version=int(row["version"]),
        updated_ns=int(row["updated_ns"]),
    )
