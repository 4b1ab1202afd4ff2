"""Edited strategy configuration reaches running shards and the arbiter without a restart."""

from __future__ import annotations

from pathlib import Path

import msgspec

from app.arbitration import Arbiter
from app.bootstrap.strategies import (
    build_all,
    executor_watcher,
    lenient_policies,
    open_strategy_store,
    shard_watcher,
)
from app.clocks.sim import SimClock
from app.engine.bars import BarAggregator
from app.engine.shard import ShardEngine
from app.exits.config import ExitConfig
from app.exits.engine import ExitEngine
from app.persistence.migrate import upgrade
from app.strategies.breakout import Breakout
from tests.builders import OPEN_NS


async def test_edits_rebuild_only_what_changed_and_switch_the_arbiter(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cfg.db'}"
    await upgrade(url)
    store = await open_strategy_store(url, SimClock(OPEN_NS))
    try:
        configs, version = await store.all(), await store.version()
        strategies = build_all(configs)
        engine = ShardEngine(
            strategies=strategies,
            exits=ExitEngine({s.name: s.exit for s in strategies}, default=ExitConfig()),
            aggregator=BarAggregator(intervals=(1, 60)),
        )
        arbiter = Arbiter(policies=lenient_policies(configs))
        shard = shard_watcher(store, engine, configs, version=version, poll_s=1)
        executor = executor_watcher(store, arbiter, version=version, poll_s=1)
        assert not await shard.check() and not await executor.check()  # nothing edited yet

        before = {s.name: s for s in engine.strategies}
        breakout = await store.get("breakout")
        assert breakout is not None
        await store.save(
            msgspec.structs.replace(
                breakout, params={**breakout.params, "lookback": 7}, exit={"stop_pct": 1.5}
            ),
            now_ns=OPEN_NS,
        )
        reclaim = await store.get("vwap_reclaim")
        assert reclaim is not None
        await store.save(msgspec.structs.replace(reclaim, enabled=False), now_ns=OPEN_NS)

        assert await shard.check() and await executor.check()
        after = {s.name: s for s in engine.strategies}
        rebuilt = after["breakout"]
        assert isinstance(rebuilt, Breakout) and rebuilt is not before["breakout"]
        assert rebuilt.params.lookback == 7 and rebuilt.exit.stop_pct == 1.5
        assert after["vwap_reclaim"] is before["vwap_reclaim"]  # only enabled changed
        assert after["pullback_ema"] is before["pullback_ema"]
        assert not arbiter.policy("vwap_reclaim").enabled
        assert arbiter.policy("breakout").enabled

        await store.save(msgspec.structs.replace(breakout, params={"lookback": -1}), now_ns=OPEN_NS)
        assert await shard.check()
        assert {s.name: s for s in engine.strategies}["breakout"] is rebuilt  # refused, kept
    finally:
        await store.close()
