"""The sharded topology as it is deployed: router, shard workers, recorder and executor as
separate processes over the local Redis, with the ledger in PostgreSQL."""

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
from tests.redis_harness import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

ROLES = ["executor", "recorder", "shard", "shard", "router"]
RUN_S = 40


async def _start(role: str, env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", f"workers.{role}", env=env, stdout=out, stderr=out
        )


async def test_router_shards_recorder_and_executor_trade_together(tmp_path: Path) -> None:
    prefix = f"e2e-{secrets.token_hex(4)}"
    async with temporary_database() as url:
        env = {
            **os.environ,
            "TRADER_MODE": "sharded",
            "TRADER_SHARD_COUNT": "2",
            "TRADER_DATABASE_URL": url,
            "TRADER_BUS_PREFIX": prefix,
            "TRADER_DATA_DIR": str(tmp_path),
            "TRADER_SYNTHETIC__SPEED": "60",
            "TRADER_SYNTHETIC__SYMBOLS": "120",
            "TRADER_SYNTHETIC__SESSION_DATE": "2026-11-20",
            "TRADER_SYNTHETIC__ANCHOR_NS": str(time.time_ns() + 3_000_000_000),
            "TRADER_LOG_LEVEL": "info",
        }
        processes = []
        shard_ids = iter(range(2))
        health_port = free_port()
        try:
            for i, role in enumerate(ROLES):
                role_env = (
                    {**env, "TRADER_SHARD_ID": str(next(shard_ids))} if role == "shard" else env
                )
                if i == 2:
                    role_env = {**role_env, "TRADER_HEALTH_PORT": str(health_port)}
                processes.append(await _start(role, role_env, tmp_path / f"{i}-{role}.log"))
            await asyncio.sleep(RUN_S)
            health = await _get_health(health_port)
        finally:
            for process in reversed(processes):
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
            codes = [await asyncio.wait_for(p.wait(), timeout=30) for p in processes]
            await _drop_keys(prefix)
        logs = _logs(tmp_path)
        assert codes == [0] * len(ROLES), logs
        engine = create_async_engine(url)
        async with engine.connect() as db:
            orders = await db.scalar(text("select count(*) from orders"))
            fills = await db.scalar(text("select count(*) from fills"))
            dupes = await db.scalar(
                text(
                    "select count(*) from (select client_order_id from orders"
                    " group by client_order_id having count(*) > 1) d"
                )
            )
        await engine.dispose()
    assert health.startswith(b"HTTP/1.1 200 OK") and b'"role":"shard"' in health, health
    assert orders and orders > 0, logs
    assert fills and fills > 0
    assert dupes == 0
    assert all("shard_started" in logs[f"{i}-shard.log"] for i in (2, 3))
    assert _recorded(tmp_path)


def _logs(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in folder.glob("*.log")}


def _recorded(folder: Path) -> bool:
    return any((folder / "ticks").rglob("*.parquet"))


async def _get_health(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\n\r\n")
    await writer.drain()
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    return answer


async def _drop_keys(prefix: str) -> None:
    client = aioredis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
