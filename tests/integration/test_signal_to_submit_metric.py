"""The executor's signal -> submit histogram (L3's figure): one observation per order submitted
from a signal, none for a signal that is refused or replayed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from app.bus.codec import encode
from app.bus.topics import SIGNALS
from app.domain.signal import Signal
from app.persistence.migrate import upgrade
from app.risk.chain import RiskChain
from app.risk.guards import HaltRule
from tests.builders import entry_signal
from tests.integration.executor_rig import Rig, start_executor

METRIC = "trader_execution_signal_to_submit_seconds_count"


def _observed() -> float:
    return REGISTRY.get_sample_value(METRIC) or 0.0


async def _publish(rig: Rig, signal: Signal) -> None:
    await rig.bus.publish(SIGNALS, encode(signal))


async def _stop_after(rig: Rig, *, decisions: int, observed: float) -> None:
    """Wait until the consumer has decided and observed that many, then drain it."""
    async with asyncio.timeout(10):
        while rig.consumer.decisions < decisions or _observed() < observed:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    await rig.close()


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    """A running signal consumer on a SQLite ledger, an in-process bus and the simulated venue;
    closed here if a test ended before stopping it."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"
    await upgrade(url)
    running = await start_executor(url, chain=RiskChain([HaltRule()]))
    yield running
    if not running.task.done():
        await running.close()


async def test_each_submitted_order_is_observed_once(rig: Rig) -> None:
    before = _observed()
    signal = entry_signal(key="observed")
    await _publish(rig, signal)
    await _publish(rig, signal)  # a redelivery is decided again but submits nothing
    await _publish(rig, entry_signal(symbol="XYZ", key="second"))
    await _stop_after(rig, decisions=3, observed=before + 2)
    assert _observed() - before == 2


async def test_a_refused_signal_is_not_observed(rig: Rig) -> None:
    before = _observed()
    await _publish(rig, entry_signal(stop=None, key="unsized"))  # cannot be sized: refused
    await _stop_after(rig, decisions=1, observed=before)
    assert _observed() == before
