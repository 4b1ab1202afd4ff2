"""What the pipeline bench reads: the raw redis-py ceiling it compares against, and from the
running processes their Prometheus endpoints, their RSS and the consumer-group lag of the bus
streams (the processes are never asked anything else: what is measured is what an operator
would see)."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import redis.asyncio as aioredis

from app.bus.codec import encode
from app.domain.market import Tick, TickBatch

REDIS = "redis://127.0.0.1:6379/0"
BATCH = 100


@dataclass
class RawPass:
    """One form of the raw ceiling: ticks/s through pipelined XADD, then XREADGROUP + XACK."""

    publish_ticks_per_s: float
    consume_ticks_per_s: float

    @property
    def ticks_per_s(self) -> float:
        return min(self.publish_ticks_per_s, self.consume_ticks_per_s)


@dataclass
class RawCeiling:
    """redis-py with nothing of ours around it, in two forms.

    `entries`: one tick a stream entry (the codec's msgpack of the tick), XADD pipelined
    PIPELINE at a time and XREADGROUP COUNT PIPELINE + XACK: the ceiling of redis-py as a tick
    transport, the figure the pipeline's ratio is taken against. `blobs`: entries of BATCH
    pre-encoded ticks, the framing our bus uses, with none of the work per tick; what Redis
    moves as bytes, printed beside it for scale."""

    entries: RawPass
    blobs: RawPass

    @property
    def ticks_per_s(self) -> float:
        return self.entries.ticks_per_s


PIPELINE = 200


async def _raw_pass(client: aioredis.Redis, payloads: list[bytes], ticks_each: int) -> RawPass:
    key = f"bench-raw-{secrets.token_hex(4)}"
    try:
        started = time.perf_counter()
        for offset in range(0, len(payloads), PIPELINE):
            async with client.pipeline(transaction=False) as pipe:
                for payload in payloads[offset : offset + PIPELINE]:
                    pipe.xadd(key, {"p": payload})
                await pipe.execute()
        published = time.perf_counter() - started
        await client.xgroup_create(key, "g", id="0")
        started, read = time.perf_counter(), 0
        while read < len(payloads):
            answer = cast(
                "list[tuple[bytes, list[tuple[bytes, object]]]]",
                await client.xreadgroup("g", "c", {key: ">"}, count=PIPELINE),
            )
            ids = [entry_id for _, batch in answer for entry_id, _ in batch]
            await client.xack(key, "g", *ids)
            read += len(ids)
        consumed = time.perf_counter() - started
    finally:
        await client.delete(key)
    ticks = len(payloads) * ticks_each
    return RawPass(ticks / published, ticks / consumed)


async def raw_ceiling(ticks: int = 100_000, blobs: int = 4_000) -> RawCeiling:
    """`ticks` ticks one an entry, then `blobs` entries of BATCH ticks each."""
    client = aioredis.Redis.from_url(REDIS)
    try:
        one_each = [encode(Tick("SYNA", i, 10.0 + i % 100 / 100, 100, i)) for i in range(ticks)]
        entries = await _raw_pass(client, one_each, 1)
        blob = encode(TickBatch(ticks=[Tick("SYNA", i, 10.0, 100, i) for i in range(BATCH)]))
        return RawCeiling(entries, await _raw_pass(client, [blob] * blobs, BATCH))
    finally:
        await client.aclose()


def scrape(port: int) -> dict[str, float]:
    """Every trader_ sample of one process, by its full name with labels."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("trader_") and " " in line:
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def quantile(samples: dict[str, float], metric: str, q: float) -> float:
    """Upper bound (ms) of the histogram bucket holding quantile q."""
    buckets = sorted(
        (float(name.split('le="')[1].split('"')[0]), count)
        for name, count in samples.items()
        if name.startswith(f"{metric}_bucket{{") and 'le="+Inf"' not in name
    )
    total = samples.get(f"{metric}_count", 0.0)
    for bound, count in buckets:
        if total and count >= q * total:
            return bound * 1000
    return float("inf") if total else 0.0


def merge(scrapes: list[dict[str, float]]) -> dict[str, float]:
    """Sum every sample over the processes (the per-shard label of ticks processed dropped)."""
    merged: dict[str, float] = {}
    for one in scrapes:
        for name, value in one.items():
            key = name.split("{")[0] if name.startswith("trader_engine_ticks_processed") else name
            merged[key] = merged.get(key, 0.0) + value
    return merged


def delta(last: dict[str, float], first: dict[str, float], name: str) -> float:
    return last.get(name, 0.0) - first.get(name, 0.0)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def redis_cpu_s(client: aioredis.Redis) -> float:
    """User + system CPU seconds the Redis server has used so far."""
    info = await client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


async def wait_serving(ports: list[int], *, timeout_s: float) -> float:
    """Wait until every metrics endpoint answers (each process has built its role and joined
    its consumer groups by then); the seconds it took. Raises TimeoutError past the limit."""
    started = time.perf_counter()
    waiting = list(ports)
    while waiting:
        if time.perf_counter() - started > timeout_s:
            raise TimeoutError(f"metrics endpoints {waiting} silent after {timeout_s:.0f} s")
        try:
            scrape(waiting[0])
        except (urllib.error.URLError, ConnectionError):
            await asyncio.sleep(0.25)
        else:
            waiting.pop(0)
    return time.perf_counter() - started


async def group_lags(client: aioredis.Redis, streams: list[str]) -> dict[str, int]:
    """The largest lag (entries not yet read) of each consumer group over the given streams.
    Redis reports no lag when tombstones make it unknowable; nothing here deletes entries
    (only an approximate MAXLEN trims them from the head), so that case counts as 0."""
    lags: dict[str, int] = {}
    for stream in streams:
        try:
            groups = await client.xinfo_groups(stream)
        except aioredis.ResponseError as exc:
            if "no such key" not in str(exc):  # streams appear with their first entry
                raise
            continue
        for group in groups:
            name = group["name"].decode() if isinstance(group["name"], bytes) else group["name"]
            lags[name] = max(lags.get(name, 0), int(group.get("lag") or 0))
    return lags


async def until_no_lag(client: aioredis.Redis, streams: list[str], *, timeout_s: float) -> None:
    """Wait until no consumer group lags (a tape that started late catches up first)."""
    async with asyncio.timeout(timeout_s):
        while any((await group_lags(client, streams)).values()):  # noqa: ASYNC110 - in Redis
            await asyncio.sleep(0.25)
