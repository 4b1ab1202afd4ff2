"""S6: a shard worker killed with SIGKILL under load and restarted loses no tick and doubles no
signal: its unacknowledged entries are claimed back, every entry ends acknowledged."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
import time
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.integration.postgres import temporary_database

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

REDIS = "redis://127.0.0.1:6379/0"
SHARDS = 2
KILLED = 1


async def _spawn(role: str, env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", f"workers.{role}", env=env, stdout=out, stderr=out
        )


async def _groups(client: aioredis.Redis, prefix: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    for shard in range(SHARDS):
        for group in await client.xinfo_groups(f"{prefix}:ticks.{shard}"):
            found.append({"shard": shard, **group})
    return found


async def test_a_killed_shard_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    prefix = f"s6-{secrets.token_hex(4)}"
    client = aioredis.Redis.from_url(REDIS, decode_responses=True)
    async with temporary_database() as url:
        env = {
            **os.environ,
            "TRADER_MODE": "sharded",
            "TRADER_SHARD_COUNT": str(SHARDS),
            "TRADER_DATABASE_URL": url,
            "TRADER_BUS_PREFIX": prefix,
            "TRADER_DATA_DIR": str(tmp_path),
            "TRADER_SYNTHETIC__SPEED": "60",
            "TRADER_SYNTHETIC__SYMBOLS": "120",
            "TRADER_SYNTHETIC__SESSION_DATE": "2026-11-20",
            "TRADER_SYNTHETIC__ANCHOR_NS": str(time.time_ns() + 3_000_000_000),
            "TRADER_LOG_LEVEL": "info",
        }
        shard_env = {i: {**env, "TRADER_SHARD_ID": str(i)} for i in range(SHARDS)}
        processes = {
            "executor": await _spawn("executor", env, tmp_path / "executor.log"),
            **{
                f"shard{i}": await _spawn("shard", shard_env[i], tmp_path / f"shard{i}.log")
                for i in range(SHARDS)
            },
        }
        router = await _spawn("router", env, tmp_path / "router.log")
        try:
            await asyncio.sleep(15)
            processes[f"shard{KILLED}"].send_signal(signal.SIGKILL)  # no drain, no acks
            await processes[f"shard{KILLED}"].wait()
            await asyncio.sleep(2)
            processes[f"shard{KILLED}"] = await _spawn(
                "shard", shard_env[KILLED], tmp_path / f"shard{KILLED}.log"
            )
            await asyncio.sleep(15)
            router.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(router.wait(), timeout=30) == 0

            async def settled() -> bool:
                groups = [g for g in await _groups(client, prefix) if g["name"] == "shard"]
                return len(groups) == SHARDS and all(
                    g["pending"] == 0 and g["lag"] == 0 for g in groups
                )

            async with asyncio.timeout(45):  # claims wait out the idle time of the dead consumer
                while not await settled():  # noqa: ASYNC110 - the state lives in Redis
                    await asyncio.sleep(0.5)
        finally:
            for process in processes.values():
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes.values():
                await asyncio.wait_for(process.wait(), timeout=30)
            keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()
        engine = create_async_engine(url)
        async with engine.connect() as db:
            doubled_signals = await db.scalar(
                text(
                    "select count(*) from (select dedup_key from signals"
                    " group by dedup_key having count(*) > 1) d"
                )
            )
            doubled_orders = await db.scalar(
                text(
                    "select count(*) from (select client_order_id from orders"
                    " group by client_order_id having count(*) > 1) d"
                )
            )
        await engine.dispose()
    assert doubled_signals == 0 and doubled_orders == 0
    assert _log(tmp_path / f"shard{KILLED}.log").count("shard_started") == 2


def _log(path: Path) -> str:
    return path.read_text()
