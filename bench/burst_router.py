"""The pipeline bench's burst: a second router process on the real path (StreamRouter: edge
validation, partitioning by the deployment's partitioner, batches published on the Redis bus),
over a synthetic tape of its own seed whose symbols are renamed BRS... so they never meet the
main router's SYN... symbols on a shard.

Started by bench/pipeline.py with the workers' environment; prints `ready` once connected to
Redis, waits for `go` on stdin, then plays its tape from the market clock's now for --seconds
and prints one JSON line: ticks published and the seconds it ran.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import AsyncIterator

import msgspec

from app.bootstrap.roles import partitioner
from app.bootstrap.session import venue_clock
from app.bus.connection import RedisConfig, RedisConnectionManager
from app.bus.redis_bus import RedisBus
from app.bus.redis_bus_config import RedisBusConfig
from app.clocks.live import LiveClock
from app.domain.market import TickBatch
from app.marketdata.synthetic import SyntheticConfig, SyntheticFeed, SyntheticTape
from app.marketdata.validation import TickValidator, ValidationConfig
from app.observability.logging import configure_logging
from app.ports.clock import Clock
from app.services.market_data import StreamRouter
from app.settings import Settings

SEED = 8
PREFIX = "BRS"


class RenamedFeed:
    """The synthetic feed with SYN... symbols renamed PREFIX..., so two tapes stay disjoint."""

    def __init__(self, feed: SyntheticFeed) -> None:
        self._feed = feed

    async def stream(self) -> AsyncIterator[TickBatch]:
        async for batch in self._feed.stream():
            yield TickBatch(
                ticks=[
                    msgspec.structs.replace(t, symbol=PREFIX + t.symbol[3:]) for t in batch.ticks
                ],
                quotes=[
                    msgspec.structs.replace(q, symbol=PREFIX + q.symbol[3:]) for q in batch.quotes
                ],
            )

    async def close(self) -> None:
        await self._feed.close()


def router_for(settings: Settings, bus: RedisBus, clock: Clock, *, symbols: int) -> StreamRouter:
    """The router over a tape that starts at the market clock's now (no catch-up flood)."""
    config = SyntheticConfig(seed=SEED, symbols=symbols, quote_prob=settings.synthetic.quote_prob)
    tape = SyntheticTape(config, start_ns=clock.now_ns())
    return StreamRouter(
        feed=RenamedFeed(SyntheticFeed(tape, clock)),
        validator=TickValidator(ValidationConfig()),
        bus=bus,
        clock=clock,
        partitioner=partitioner(settings),
        wall=LiveClock(),
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    args = parser.parse_args()
    settings = Settings()
    configure_logging(json_output=False, level="warning")
    clock, _ = venue_clock(settings)
    connection = RedisConnectionManager(
        RedisConfig(url=settings.redis_url),
        rng=random.Random(),
    )
    bus = RedisBus(connection, config=RedisBusConfig(prefix=f"{settings.bus_prefix}:"))
    await bus.start()
    try:
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        router = router_for(settings, bus, clock, symbols=args.symbols)
        started = time.perf_counter()
        running = asyncio.create_task(router.run())
        await asyncio.sleep(args.seconds)
        router.request_stop()
        await running
        elapsed = time.perf_counter() - started
    finally:
        await bus.close()
    print(json.dumps({"published": router.ticks_out, "elapsed_s": elapsed}), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
