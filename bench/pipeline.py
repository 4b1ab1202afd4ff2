"""Pipeline benchmark: ticks through real router and shard-worker processes on the local Redis.

    .venv/bin/python bench/pipeline.py --mode sharded --shards 2 --rate 5000 --duration 30 --json
    .venv/bin/python bench/pipeline.py --mode sharded --shards 2 --rate max

It first measures the raw redis-py ceiling on this machine (pipelined XADD of tick batches,
then XREADGROUP + XACK of them, same payloads), then starts a router (synthetic tape sped up
to the requested rate) and N shard workers as separate processes, and reads their Prometheus
metrics: sustained ticks/s through the shards, bus latency (router publish -> shard start)
quantiles from the histogram buckets, shard processing time of signal-producing batches,
consumer-group lag, and each process's RSS. `--rate max` steps the rate up until the shards
stop keeping up and reports the highest sustained rate and its ratio to the raw ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import secrets
import socket
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import cast

import redis.asyncio as aioredis

from app.bus.codec import encode
from app.domain.calendar import session_open_ns
from app.domain.market import Tick, TickBatch
from app.marketdata.synthetic import SyntheticConfig, SyntheticTape
from app.persistence.migrate import upgrade

REDIS = "redis://127.0.0.1:6379/0"
SESSION = "2026-11-20"
SYMBOLS = 200
BATCH = 100


@dataclass
class RawCeiling:
    publish_ticks_per_s: float
    consume_ticks_per_s: float

    @property
    def ticks_per_s(self) -> float:
        return min(self.publish_ticks_per_s, self.consume_ticks_per_s)


@dataclass
class PipelineRun:
    offered_ticks_per_s: float
    symbols: int
    published_ticks_per_s: float
    sustained_ticks_per_s: float
    bus_latency_p50_ms: float
    bus_latency_p99_ms: float
    bus_latency_p999_ms: float
    signal_batch_p99_ms: float
    max_lag_entries: int
    rss_mb: dict[str, float]
    rss_growth_pct: float


async def raw_ceiling(entries: int = 4_000) -> RawCeiling:
    """Pipelined XADD of `entries` batches of BATCH ticks, then XREADGROUP + XACK of them."""
    client = aioredis.Redis.from_url(REDIS)
    key = f"bench-raw-{secrets.token_hex(4)}"
    payload = encode(TickBatch(ticks=[Tick("SYNA", i, 10.0, 100, i) for i in range(BATCH)]))
    try:
        started = time.perf_counter()
        for offset in range(0, entries, 200):
            async with client.pipeline(transaction=False) as pipe:
                for _ in range(min(200, entries - offset)):
                    pipe.xadd(key, {"p": payload})
                await pipe.execute()
        published = time.perf_counter() - started
        await client.xgroup_create(key, "g", id="0")
        started, read = time.perf_counter(), 0
        while read < entries:
            answer = cast(
                "list[tuple[bytes, list[tuple[bytes, object]]]]",
                await client.xreadgroup("g", "c", {key: ">"}, count=200),
            )
            ids = [entry_id for _, batch in answer for entry_id, _ in batch]
            await client.xack(key, "g", *ids)
            read += len(ids)
        consumed = time.perf_counter() - started
    finally:
        await client.delete(key)
        await client.aclose()
    return RawCeiling(entries * BATCH / published, entries * BATCH / consumed)


def per_symbol_rate(seed: int = 7) -> float:
    """Ticks per market second per symbol of the synthetic tape (its first 10 minutes)."""
    start = session_open_ns(datetime.date.fromisoformat(SESSION))
    tape = SyntheticTape(SyntheticConfig(seed=seed, symbols=SYMBOLS), start_ns=start)
    return len(tape.ticks_until(start + 600 * 1_000_000_000)) / 600 / SYMBOLS


def tape_for(rate: float) -> tuple[int, float]:
    """Symbols and speed that make the tape run at `rate` ticks/s, the speed kept near 200x."""
    per_symbol = per_symbol_rate()
    symbols = int(min(5_000, max(SYMBOLS, rate / (per_symbol * 200))))
    return symbols, rate / (per_symbol * symbols)


def _scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("trader_") and " " in line:
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def _quantile(samples: dict[str, float], metric: str, q: float) -> float:
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


def _merge(scrapes: list[dict[str, float]]) -> dict[str, float]:
    """Sum every sample over the shards (the per-shard label of ticks processed dropped)."""
    merged: dict[str, float] = {}
    for scrape in scrapes:
        for name, value in scrape.items():
            key = name.split("{")[0] if name.startswith("trader_engine_ticks_processed") else name
            merged[key] = merged.get(key, 0.0) + value
    return merged


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _max_lag(prefix: str, shards: int) -> int:
    client = aioredis.Redis.from_url(REDIS)
    try:
        lags = []
        for shard in range(shards):
            for group in await client.xinfo_groups(f"{prefix}:ticks.{shard}"):
                lags.append(int(group.get("lag") or 0))
        return max(lags, default=0)
    except aioredis.ResponseError as exc:
        if "no such key" not in str(exc):  # streams appear with the first ticks
            raise
        return 0
    finally:
        await client.aclose()


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


async def _spawn(role: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(sys.executable, "-m", f"workers.{role}", env=env)


async def pipeline(*, shards: int, rate: float, duration: float) -> PipelineRun:
    symbols, speed = tape_for(rate)
    prefix = f"bench-{secrets.token_hex(4)}"
    data = Path(tempfile.mkdtemp(prefix="trader-bench-"))
    env = {
        **os.environ,
        "TRADER_MODE": "sharded",
        "TRADER_SHARD_COUNT": str(shards),
        "TRADER_BUS_PREFIX": prefix,
        "TRADER_DATA_DIR": str(data),
        "TRADER_MIGRATE_ON_START": "false",
        "TRADER_SYNTHETIC__SYMBOLS": str(symbols),
        "TRADER_SYNTHETIC__SPEED": f"{speed:.4f}",
        "TRADER_SYNTHETIC__SESSION_DATE": SESSION,
        "TRADER_SYNTHETIC__ANCHOR_NS": str(time.time_ns() + 4_000_000_000),
        "TRADER_LOG_LEVEL": "warning",
    }
    await upgrade(f"sqlite+aiosqlite:///{(data / 'trader.db').resolve()}")
    ports = _free_ports(shards + 1)
    processes = {
        f"shard{i}": await _spawn(
            "shard", {**env, "TRADER_SHARD_ID": str(i), "TRADER_METRICS_PORT": str(ports[i])}
        )
        for i in range(shards)
    }
    processes["router"] = await _spawn("router", {**env, "TRADER_METRICS_PORT": str(ports[-1])})
    try:
        await asyncio.sleep(4 + 3)  # anchor, then a little warm-up
        first = _merge([_scrape(p) for p in ports])
        rss_start = {name: _rss_mb(p.pid) for name, p in processes.items()}
        first_published = first.get("trader_bus_ticks_published_total", 0.0)
        t0, max_lag = time.perf_counter(), 0
        while time.perf_counter() - t0 < duration:
            await asyncio.sleep(1)
            max_lag = max(max_lag, await _max_lag(prefix, shards))
        last = _merge([_scrape(p) for p in ports])
        published = last.get("trader_bus_ticks_published_total", 0.0) - first_published
        elapsed = time.perf_counter() - t0
        rss = {name: round(_rss_mb(p.pid), 1) for name, p in processes.items()}
        growth = max(100 * (rss[name] / rss_start[name] - 1) for name in rss)
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            await asyncio.wait_for(process.wait(), timeout=30)
        client = aioredis.Redis.from_url(REDIS)
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
    processed = last.get("trader_engine_ticks_processed_total", 0) - first.get(
        "trader_engine_ticks_processed_total", 0
    )
    latency = "trader_bus_tick_latency_seconds"
    return PipelineRun(
        offered_ticks_per_s=rate,
        symbols=symbols,
        published_ticks_per_s=published / elapsed,
        sustained_ticks_per_s=processed / elapsed,
        bus_latency_p50_ms=_quantile(last, latency, 0.5),
        bus_latency_p99_ms=_quantile(last, latency, 0.99),
        bus_latency_p999_ms=_quantile(last, latency, 0.999),
        signal_batch_p99_ms=_quantile(last, "trader_engine_tick_to_signal_seconds", 0.99),
        max_lag_entries=max_lag,
        rss_mb=rss,
        rss_growth_pct=round(growth, 1),
    )


def _kept_up(run: PipelineRun) -> bool:
    """The shards processed what the router published, and the router what was asked."""
    return (
        run.sustained_ticks_per_s >= 0.95 * run.published_ticks_per_s
        and run.published_ticks_per_s >= 0.9 * run.offered_ticks_per_s
        and run.max_lag_entries < 1_000
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["sharded"], default="sharded")
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--rate", default="5000", help="ticks/s, or 'max' to find the ceiling")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    ceiling = await raw_ceiling()
    runs: list[PipelineRun] = []
    if args.rate == "max":
        rate = 2_000.0
        while True:
            run = await pipeline(shards=args.shards, rate=rate, duration=min(args.duration, 20))
            runs.append(run)
            print(json.dumps(asdict(run)), file=sys.stderr)
            if not _kept_up(run) or rate >= ceiling.ticks_per_s:
                break
            rate *= 1.6
    else:
        runs.append(
            await pipeline(shards=args.shards, rate=float(args.rate), duration=args.duration)
        )
    kept = [r for r in runs if _kept_up(r)]
    best = max((r.sustained_ticks_per_s for r in kept), default=runs[-1].sustained_ticks_per_s)
    report = {
        "shards": args.shards,
        "raw_redis_ceiling_ticks_per_s": round(ceiling.ticks_per_s),
        "raw_publish_ticks_per_s": round(ceiling.publish_ticks_per_s),
        "raw_consume_ticks_per_s": round(ceiling.consume_ticks_per_s),
        "runs": [asdict(r) for r in runs],
        "best_sustained_ticks_per_s": round(best),
        "ratio_to_raw_ceiling": round(best / ceiling.ticks_per_s, 3),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"raw redis ceiling: {report['raw_redis_ceiling_ticks_per_s']:,} ticks/s")
    for run in runs:
        print(
            f"offered {run.offered_ticks_per_s:>9,.0f}/s"
            f"  sustained {run.sustained_ticks_per_s:>9,.0f}/s"
            f"  bus p50/p99/p99.9 {run.bus_latency_p50_ms}/{run.bus_latency_p99_ms}/"
            f"{run.bus_latency_p999_ms} ms  lag {run.max_lag_entries}  rss {run.rss_mb}"
        )
    print(f"best sustained {best:,.0f} ticks/s = {report['ratio_to_raw_ceiling']:.1%} of raw")


if __name__ == "__main__":
    asyncio.run(main())
