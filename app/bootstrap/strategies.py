"""Strategies from their stored configuration: built at start, rebuilt when edited.

Every configured strategy runs on the shards, enabled or not; the arbiter refuses the entries
of a disabled one. So enabling, disabling and re-prioritising take effect at the executor on
its next poll, and a parameter or exit edit rebuilds just that strategy on each shard.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import structlog

from app.arbitration import Arbiter, StrategyPolicy
from app.bootstrap.runtime import ConfigurationError
from app.domain.strategy_config import StrategyConfig
from app.engine.shard import ShardEngine
from app.persistence.strategy_configs import SqlStrategyConfigStore
from app.ports.clock import Clock
from app.services.strategy_watcher import StrategyWatcher
from app.strategies.base import Strategy
from app.strategies.catalog import build_configured, default_configs

log = structlog.get_logger()


async def open_strategy_store(url: str, clock: Clock) -> SqlStrategyConfigStore:
    """The store, with any built-in not configured yet added at its defaults."""
    store = SqlStrategyConfigStore(url)
    await store.start()
    await store.seed(default_configs(), now_ns=clock.now_ns())
    return store


def build_all(configs: Sequence[StrategyConfig]) -> list[Strategy]:
    """Every configured strategy; a stored configuration that no longer builds stops start-up
    with its name and why (the CLI validates edits, so only a hand-edited row gets here)."""
    built: list[Strategy] = []
    for config in configs:
        try:
            built.append(build_configured(config))
        except ValueError as exc:
            raise ConfigurationError(f"strategy {config.name!r}: {exc}") from exc
    return built


def policies(
    configs: Sequence[StrategyConfig], strategies: Sequence[Strategy]
) -> dict[str, StrategyPolicy]:
    by_name = {s.name: s for s in strategies}
    return {
        c.name: StrategyPolicy(
            enabled=c.enabled,
            priority=by_name[c.name].priority,
            accepts=by_name[c.name].accepts,
            bracket=by_name[c.name].exit.bracket_spec(),
        )
        for c in configs
        if c.name in by_name
    }


def lenient_policies(configs: Sequence[StrategyConfig]) -> dict[str, StrategyPolicy]:
    """Policies for the executor's arbiter; a configuration that does not build is left out
    (its strategy keeps running on the shards as it was, see ShardStrategies)."""
    strategies: list[Strategy] = []
    for config in configs:
        try:
            strategies.append(build_configured(config))
        except ValueError as exc:
            log.error("strategy_config_refused", strategy=config.name, error=str(exc))
    return policies(configs, strategies)


def executor_watcher(
    store: SqlStrategyConfigStore, arbiter: Arbiter, *, version: int, poll_s: float
) -> StrategyWatcher:
    return StrategyWatcher(
        store,
        lambda configs: arbiter.set_policies(lenient_policies(configs)),
        poll_s=poll_s,
        applied_version=version,
    )


class ShardStrategies:
    """Keeps a shard engine's strategies in step with the store: only strategies whose
    configuration changed are rebuilt (the others keep their state)."""

    def __init__(self, engine: ShardEngine, configs: Sequence[StrategyConfig]) -> None:
        self._engine = engine
        self._built = {c.name: _shape(c) for c in configs}

    def apply(self, configs: list[StrategyConfig]) -> None:
        current = {s.name: s for s in self._engine.strategies}
        updated: list[Strategy] = []
        for config in configs:
            kept = current.get(config.name)
            if kept is not None and self._built.get(config.name) == _shape(config):
                updated.append(kept)
                continue
            try:
                updated.append(build_configured(config))
            except ValueError as exc:
                log.error("strategy_config_refused", strategy=config.name, error=str(exc))
                if kept is not None:
                    updated.append(kept)
                continue
            self._built[config.name] = _shape(config)
        self._engine.reconfigure(updated)


def _shape(config: StrategyConfig) -> bytes:
    """What a shard's strategy object is built from (enabling is the arbiter's business)."""
    return msgspec.json.encode(
        (config.kind, config.params, config.priority, config.exit), order="sorted"
    )


def shard_watcher(
    store: SqlStrategyConfigStore,
    engine: ShardEngine,
    configs: Sequence[StrategyConfig],
    *,
    version: int,
    poll_s: float,
) -> StrategyWatcher:
    keeper = ShardStrategies(engine, configs)
    return StrategyWatcher(store, keeper.apply, poll_s=poll_s, applied_version=version)
