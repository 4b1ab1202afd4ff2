"""Strategy configuration in the database, on every SQL backend."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.domain.strategy_config import StrategyConfig
from app.persistence.strategy_configs import SqlStrategyConfigStore


@pytest.fixture
async def store(migrated_db: str) -> AsyncIterator[SqlStrategyConfigStore]:
    configs = SqlStrategyConfigStore(migrated_db)
    await configs.start()
    yield configs
    await configs.close()


async def test_seeding_inserts_only_what_is_missing(store: SqlStrategyConfigStore) -> None:
    assert await store.version() == 0
    defaults = [
        StrategyConfig("breakout", "breakout", params={"lookback": 20}),
        StrategyConfig("vwap_reclaim", "vwap_reclaim", priority=10),
    ]
    assert await store.seed(defaults, now_ns=1) == 2
    assert [c.name for c in await store.all()] == ["breakout", "vwap_reclaim"]
    assert await store.seed(defaults, now_ns=2) == 0
    assert await store.version() == 2


async def test_an_edit_survives_reseeding_and_bumps_the_version(
    store: SqlStrategyConfigStore,
) -> None:
    await store.seed([StrategyConfig("breakout", "breakout", params={"lookback": 20})], now_ns=1)
    before = await store.version()
    edited = await store.save(
        StrategyConfig(
            "breakout",
            "breakout",
            enabled=False,
            priority=42,
            params={"lookback": 30, "volume_mult": 2.5},
            exit={"stop_pct": 2.0},
        ),
        now_ns=5,
    )
    assert edited.version == before + 1 and edited.updated_ns == 5
    await store.seed([StrategyConfig("breakout", "breakout", params={"lookback": 20})], now_ns=9)
    stored = await store.get("breakout")
    assert stored == edited
    assert stored is not None and stored.params == {"lookback": 30, "volume_mult": 2.5}
    assert await store.get("missing") is None


async def test_a_rule_given_as_data_round_trips(store: SqlStrategyConfigStore) -> None:
    rule = {
        "name": "mined_7",
        "phases": [{"conditions": [{"left": "rsi:14", "op": "<", "right": 30}]}],
    }
    await store.save(StrategyConfig("mined_7", "rule", params=rule), now_ns=3)
    stored = await store.get("mined_7")
    assert stored is not None and stored.params == rule and stored.kind == "rule"
