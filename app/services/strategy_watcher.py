"""Applies edited strategy configuration without a restart: polls one version number."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from app.domain.strategy_config import StrategyConfig
from app.ports.strategy_config import StrategyConfigStore

log = structlog.get_logger()


class StrategyWatcher:
    """Every `poll_s`, compares the store's version with the last applied one; on a change,
    hands every configuration to `apply`. A configuration `apply` refuses (ValueError) is
    logged and skipped by it, never fatal: the running strategies stay as they were."""

    name = "strategy_watcher"

    def __init__(
        self,
        store: StrategyConfigStore,
        apply: Callable[[list[StrategyConfig]], None],
        *,
        poll_s: float = 2.0,
        applied_version: int = -1,
    ) -> None:
        self._store = store
        self._apply = apply
        self._poll_s = poll_s
        self._version = applied_version  # what the process started with
        self.applied = 0
        self._stopping = asyncio.Event()

    async def check(self) -> bool:
        """Apply the stored configuration if it changed since the last check."""
        version = await self._store.version()
        if version == self._version:
            return False
        self._apply(await self._store.all())
        self._version = version
        self.applied += 1
        log.info("strategy_config_applied", version=version)
        return True

    def request_stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), self._poll_s)
            except TimeoutError:
                await self.check()
