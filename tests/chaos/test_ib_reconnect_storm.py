"""S16 of RELIABILITY.md at the fake TWS: a real `trader run` (TRADER_VENUE=ibkr) whose one IB
socket is dropped again and again, then refused as a gateway at its connection limit refuses.
It reconnects one connection at a time, restores exactly the market-data subscriptions, and
each reconnect is a gap marker followed by a reconciliation (the Alpaca side of S16 is in
tests/chaos/test_venue_faults.py). IB trades in real time, so prints keep the feed alive but
no bar completes: this is about the connection, the subscriptions and the reconciliations.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.chaos.trader_run import running_trader
from tests.fakes.tws.harness import running_tws
from tests.fakes.tws.messages import REQ_ALL_OPEN_ORDERS, REQ_POSITIONS, START_API
from tests.fakes.tws.server import FakeTws
from tests.redis_harness import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

SYMBOLS = ("ABC", "MNO", "XYZ")
DROPS = 4
REFUSALS = 3
# a reconciliation ends done, or deferred when the next drop cuts it short (it runs again)
RECONCILIATION_ENDS = ("reconciled", "reconciliation_deferred")


async def test_s16_the_ib_session_rides_out_a_reconnect_storm(tmp_path: Path) -> None:
    """Dropped as soon as the market data is back and the executor has reconciled, four
    times; then refused until three connects have failed."""
    symbols = sorted(SYMBOLS)
    env = {
        **os.environ,
        "TRADER_DATA_DIR": str(tmp_path),
        "TRADER_VENUE": "ibkr",
        "TRADER_FEED": "venue",
        "TRADER_SYMBOLS": ",".join(symbols),
        "TRADER_IBKR__CLIENT_ID": "7",
        "TRADER_LOG_FORMAT": "json",
        "TRADER_LOG_LEVEL": "info",
    }
    async with running_tws() as fake:
        env["TRADER_IBKR__PORT"] = str(fake.port)

        def back() -> bool:
            return bool(fake.live) and fake.subscriptions() == symbols

        def reconnected(connects: int) -> bool:
            """Connected more than `connects` times, subscribed, and reconciled since."""
            return (
                len(fake.requests_of(START_API)) > connects
                and back()
                and _reconciled_since_connect(fake)
            )

        async with running_trader(env) as run, _printing(fake, symbols):
            await eventually(
                functools.partial(reconnected, 0),
                timeout_s=40,
                what="IB connected, subscribed and the executor's startup reconciliation done",
            )
            for drop in range(1, DROPS + 1):
                fake.drop_connections()
                await eventually(
                    functools.partial(reconnected, drop),
                    timeout_s=30,
                    what="IB back, subscribed and reconciled after a drop",
                )
            fake.faults.refuse_connections = True
            fake.drop_connections()
            await eventually(
                lambda: fake.refused >= REFUSALS, timeout_s=30, what="refused connects"
            )
            fake.faults.refuse_connections = False
            await eventually(
                functools.partial(reconnected, DROPS + 1),
                timeout_s=30,
                what="IB back, subscribed and reconciled after the refusals",
            )
            await run.stop()
        assert run.code == 0, run.err[-4000:]

    assert fake.max_concurrent == 1
    reconnects = len(fake.requests_of(START_API)) - 1
    assert reconnects == DROPS + 1
    assert len(run.named("venue_stream_gap")) == reconnects
    ends = [e["event"] for e in run.events if e["event"] in RECONCILIATION_ENDS]
    assert len(ends) >= 1 + reconnects
    last_gap = max(i for i, e in enumerate(run.events) if e["event"] == "venue_stream_gap")
    assert "reconciled" in [e["event"] for e in run.events[last_gap:]]


def _reconciled_since_connect(fake: FakeTws) -> bool:
    """Since IB last connected, the executor has read its orders, then its positions: a
    reconciliation (IB's own catch-up on connect lists no orders). The storm starts only once
    the startup one is done: a drop while the executor starts up (its risk state loaded, its
    first reconciliation under way) still stops the trader instead of waiting for IB."""
    kinds = [int(request[0]) for request in fake.requests]
    since = kinds[len(kinds) - kinds[::-1].index(START_API) :]
    if REQ_ALL_OPEN_ORDERS not in since:
        return False
    return REQ_POSITIONS in since[since.index(REQ_ALL_OPEN_ORDERS) :]


@contextlib.asynccontextmanager
async def _printing(fake: FakeTws, symbols: list[str]) -> AsyncIterator[None]:
    """A print on every symbol every 50 ms while the block runs: the feed is never silent."""

    async def prints() -> None:
        while True:
            for symbol in symbols:
                fake.trade(symbol, "10.00")
            await asyncio.sleep(0.05)

    task = asyncio.create_task(prints())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
