"""S5: a shard worker frozen with SIGSTOP in the middle of a batch, for 30 s.

The topology runs one worker per shard id and nothing else reads a shard's tick stream in its
group, so "another worker" is what an orchestrator does with a worker that stopped answering:
it starts a replacement for the same shard id (a new process, so a new consumer name in the
same group). The replacement claims the frozen worker's entries once they have been idle for
the claim time (RedisBusConfig's defaults: 5 s idle, checked every 2 s). The frozen worker is
woken after 30 s and retired (SIGTERM, as the orchestrator would): it finishes the batch it
held, whose acknowledgement finds nothing left to acknowledge and whose signals meet the
executor's dedup key; or, when it froze waiting on Redis, that call times out on waking and it
re-reads its own pending entries, of which none are left. The feed stops before the wake-up,
so the stale batch is the woken worker's only work: two workers sharing one shard's ticks is
not a state the topology has.

Checked: the entries leave the frozen worker within 10 s of the replacement consuming, while
it is still stopped; afterwards every tick entry is acknowledged and none dead-lettered (0
lost ticks); every signal published is decided exactly once (0 duplicates) and no
client_order_id is doubled; every process exits cleanly.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import signal
import time
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.bus.codec import decode
from app.domain.signal import Signal
from tests.chaos.test_shard_kill import REDIS, _spawn
from tests.integration.postgres import temporary_database
from tests.redis_harness import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(120)]

PAUSE_S = 30
CLAIM_WITHIN_S = 10  # S5, from the moment another worker consumes the shard
FEED_STOPS_BEFORE_WAKE_S = 5
GROUP = "shard"


async def _consumer_of(client: aioredis.Redis, key: str, pid: int) -> str | None:
    """The consumer name of process `pid` in the shard group (names carry the pid)."""
    for consumer in await client.xinfo_consumers(key, GROUP):
        if f"-{pid}-" in consumer["name"]:
            return str(consumer["name"])
    return None


async def _held(client: aioredis.Redis, key: str, consumer: str) -> dict[str, int]:
    """The consumer's pending entries, with the ms since each was delivered."""
    rows = await client.xpending_range(key, GROUP, "-", "+", 10_000, consumername=consumer)
    return {str(row["message_id"]): int(row["time_since_delivered"]) for row in rows}


def _state(pid: int) -> str:
    """The process state letter from /proc (T: stopped by a signal)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2]


async def _freeze_mid_batch(
    process: asyncio.subprocess.Process, client: aioredis.Redis, key: str, consumer: str
) -> tuple[list[str], float]:
    """SIGSTOP the worker while it handles a batch: it holds entries delivered to it before
    it stopped. (Entries Redis hands to a read the worker was blocked in do not count: the
    worker never saw them.) Thaw and try again a little later when it held none. Returns the
    entries held and when the worker was stopped."""
    for _ in range(300):
        process.send_signal(signal.SIGSTOP)
        stopped = time.monotonic()
        await asyncio.sleep(0.05)  # what it sent before stopping has reached Redis
        held = await _held(client, key, consumer)
        since_stop_ms = (time.monotonic() - stopped) * 1000
        before_stop = [entry for entry, age_ms in held.items() if age_ms > since_stop_ms]
        if before_stop:
            return before_stop, stopped
        process.send_signal(signal.SIGCONT)
        await asyncio.sleep(random.uniform(0.01, 0.1))
    pytest.fail("the shard worker was never caught handling a batch", pytrace=False)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def _all_acknowledged(raw: aioredis.Redis, key: str, group: str) -> bool:
    """Every entry of the stream delivered to the group and acknowledged by it."""
    newest = _text((await raw.xinfo_stream(key))["last-generated-id"])
    found = [g for g in await raw.xinfo_groups(key) if _text(g["name"]) == group]
    return (
        bool(found) and found[0]["pending"] == 0 and _text(found[0]["last-delivered-id"]) == newest
    )


async def _signal_keys(raw: aioredis.Redis, key: str) -> list[str]:
    """The dedup key of every signal published, duplicates included."""
    entries = await raw.xrange(key) or []
    payloads = [(fields or {})[b"p"] for _, fields in entries]
    return [decode(p, Signal).dedup_key for p in payloads if isinstance(p, bytes)]


async def test_a_frozen_shard_worker_is_replaced_and_its_stale_work_changes_nothing(
    tmp_path: Path,
) -> None:
    prefix = f"s5-{secrets.token_hex(4)}"
    ticks = f"{prefix}:ticks.0"
    client = aioredis.Redis.from_url(REDIS, decode_responses=True)
    raw = aioredis.Redis.from_url(REDIS)  # stream payloads are msgpack
    async with temporary_database() as url:
        env = {
            **os.environ,
            "TRADER_MODE": "sharded",
            "TRADER_SHARD_COUNT": "1",
            "TRADER_SHARD_ID": "0",
            "TRADER_DATABASE_URL": url,
            "TRADER_BUS_PREFIX": prefix,
            "TRADER_DATA_DIR": str(tmp_path),
            "TRADER_SYNTHETIC__SPEED": "60",
            "TRADER_SYNTHETIC__SYMBOLS": "120",
            "TRADER_SYNTHETIC__SESSION_DATE": "2026-11-20",
            "TRADER_SYNTHETIC__ANCHOR_NS": str(time.time_ns() + 3_000_000_000),
            "TRADER_LOG_LEVEL": "info",
        }
        processes = {
            "executor": await _spawn("executor", env, tmp_path / "executor.log"),
            "frozen": await _spawn("shard", env, tmp_path / "frozen.log"),
        }
        router = await _spawn("router", env, tmp_path / "router.log")
        try:
            frozen = processes["frozen"]

            async def flowing() -> str | None:
                if await client.xlen(ticks) < 100:
                    return None
                return await _consumer_of(client, ticks, frozen.pid)

            await eventually(flowing, timeout_s=30, interval_s=0.2, what="ticks flowing")
            name = await flowing()
            assert name is not None
            held, stopped_at = await _freeze_mid_batch(frozen, client, ticks, name)
            processes["replacement"] = await _spawn("shard", env, tmp_path / "replacement.log")

            async def replacement_consuming() -> bool:
                return await _consumer_of(client, ticks, processes["replacement"].pid) is not None

            await eventually(replacement_consuming, timeout_s=30, interval_s=0.1, what="start")

            async def claimed() -> bool:
                return not set(held) & set(await _held(client, ticks, name))

            await eventually(claimed, timeout_s=CLAIM_WITHIN_S, interval_s=0.1, what="claim")
            assert _state(frozen.pid) == "T"  # still frozen: another consumer took them

            await asyncio.sleep(stopped_at + PAUSE_S - FEED_STOPS_BEFORE_WAKE_S - time.monotonic())
            router.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(router.wait(), timeout=30) == 0
            await asyncio.sleep(stopped_at + PAUSE_S - time.monotonic())
            frozen.send_signal(signal.SIGCONT)
            frozen.send_signal(signal.SIGTERM)  # retired: finish what it holds, then leave
            woken_exit = await asyncio.wait_for(frozen.wait(), timeout=30)

            async def settled() -> bool:
                return await _all_acknowledged(raw, ticks, GROUP)

            await eventually(settled, timeout_s=30, interval_s=0.2, what="shard caught up")
            dead_ticks = await client.exists(f"{prefix}:dead.ticks.0")
            signal_keys = await _signal_keys(raw, f"{prefix}:signals")

            async def signals_decided() -> bool:
                return await _all_acknowledged(raw, f"{prefix}:signals", "execution")

            if signal_keys:
                await eventually(signals_decided, timeout_s=30, interval_s=0.2, what="decisions")
        finally:
            for process in processes.values():
                if process.returncode is None:
                    process.send_signal(signal.SIGCONT)
                    process.send_signal(signal.SIGTERM)
            if router.returncode is None:
                router.send_signal(signal.SIGTERM)
            exits = {
                role: await asyncio.wait_for(process.wait(), timeout=30)
                for role, process in processes.items()
            }
            await asyncio.wait_for(router.wait(), timeout=30)
            keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()
            await raw.aclose()
        engine = create_async_engine(url)
        async with engine.connect() as db:
            decided = list(await db.scalars(text("select dedup_key from signals")))
            doubled_orders = await db.scalar(
                text(
                    "select count(*) from (select client_order_id from orders"
                    " group by client_order_id having count(*) > 1) d"
                )
            )
        await engine.dispose()
    assert woken_exit == 0  # its stale batch finished without an error
    assert exits == {"executor": 0, "frozen": 0, "replacement": 0}
    assert dead_ticks == 0  # with `settled`: 0 lost ticks, every entry acknowledged
    assert sorted(decided) == sorted(set(signal_keys))  # each signal decided once, none lost
    assert doubled_orders == 0
    assert "bus_entries_claimed" in (tmp_path / "replacement.log").read_text()
