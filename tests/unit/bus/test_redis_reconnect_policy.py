"""S7's reconnect policy on its own: the full-jitter schedule, and how health follows outcomes."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio import Redis

from app.bus.connection import BusUnavailable, RedisConfig, RedisConnectionManager
from app.bus.redis_health import ConnectionHealth
from app.domain.backoff import FullJitterBackoff
from tests.redis_harness import RecordingSleep, RedisServer, eventually, free_port


def test_ceilings_double_from_base_up_to_the_cap() -> None:
    backoff = FullJitterBackoff(base_s=0.1, cap_s=5.0, random=random.Random(0).random)
    ceilings = [backoff.ceiling(n) for n in range(9)]
    assert ceilings == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0])
    assert backoff.ceiling(100_000) == 5.0


def test_delays_are_uniform_below_the_ceiling_from_the_injected_random() -> None:
    backoff = FullJitterBackoff(base_s=0.1, cap_s=5.0, random=random.Random(42).random)
    reference = random.Random(42)
    delays = [backoff.delay(n) for n in range(12)]
    assert delays == [reference.uniform(0.0, backoff.ceiling(n)) for n in range(12)]
    assert delays[0] <= 0.5
    assert max(delays) <= 5.0


def test_full_jitter_spreads_over_the_whole_window() -> None:
    backoff = FullJitterBackoff(base_s=0.1, cap_s=5.0, random=random.Random(7).random)
    samples = [backoff.delay(20) for _ in range(2_000)]
    assert min(samples) < 0.25
    assert max(samples) > 4.75
    assert 2.3 < sum(samples) / len(samples) < 2.7


@given(
    seed=st.integers(min_value=0, max_value=2**32),
    attempt=st.integers(min_value=0, max_value=10_000),
    base=st.floats(min_value=0.001, max_value=1.0),
    cap=st.floats(min_value=1.0, max_value=60.0),
)
def test_every_delay_is_within_zero_and_the_capped_exponential(
    seed: int, attempt: int, base: float, cap: float
) -> None:
    backoff = FullJitterBackoff(base_s=base, cap_s=cap, random=random.Random(seed).random)
    assert 0.0 <= backoff.delay(attempt) <= min(cap, base * 2.0 ** min(attempt, 62))


@pytest.mark.parametrize(("base", "cap"), [(0.0, 5.0), (-1.0, 5.0), (1.0, 0.5)])
def test_nonsense_backoff_settings_are_refused(base: float, cap: float) -> None:
    with pytest.raises(ValueError, match="backoff"):
        FullJitterBackoff(base_s=base, cap_s=cap, random=random.Random(0).random)


def test_health_follows_outcomes() -> None:
    health = ConnectionHealth()
    assert (health.healthy, health.last_ok_ns, health.consecutive_failures) == (False, None, 0)
    health.record_success(now_ns=10)
    assert (health.healthy, health.last_ok_ns, health.consecutive_failures) == (True, 10, 0)
    health.record_failure(ConnectionError("refused"))
    health.record_failure(TimeoutError("no answer"))
    assert (health.healthy, health.last_ok_ns, health.consecutive_failures) == (False, 10, 2)
    assert health.last_error == "TimeoutError: no answer"
    health.record_reconnect()
    health.record_success(now_ns=25)
    assert (health.healthy, health.last_ok_ns, health.consecutive_failures) == (True, 25, 0)
    assert health.reconnects == 1


@pytest.mark.parametrize(
    "build",
    [
        lambda: RedisConfig(heartbeat_timeout_s=20.0),
        lambda: RedisConfig(socket_timeout_s=0.0),
        lambda: RedisConfig(health_check_interval_s=-1.0),
    ],
)
def test_nonsense_connection_settings_are_refused(build: Callable[[], RedisConfig]) -> None:
    with pytest.raises(ValueError, match="_s"):
        build()


async def test_retries_follow_the_schedule_and_health_tracks_an_outage(tmp_path: Path) -> None:
    """Nothing listens on the port at first: every try fails, the sleeps between tries are the
    injected Random's full-jitter draws, and health counts the failures; once a server answers
    on that port, one success makes the connection healthy again."""
    port = free_port()
    sleep = RecordingSleep(real=False)
    config = RedisConfig(url=f"redis://127.0.0.1:{port}/0", connect_timeout_s=0.5)
    manager = RedisConnectionManager(config, rng=random.Random(3), sleep=sleep)
    try:

        async def ping(client: Redis) -> bool:
            return bool(await client.ping())

        with pytest.raises(BusUnavailable):
            await manager.run_with_retry(ping, attempts=5)
        reference = FullJitterBackoff(base_s=0.1, cap_s=5.0, random=random.Random(3).random)
        assert sleep.delays == [reference.delay(n) for n in range(4)]
        assert sleep.delays[0] <= 0.5
        health = manager.health
        assert (health.healthy, health.consecutive_failures, health.last_ok_ns) == (False, 5, None)

        server = RedisServer(tmp_path, appendonly=False, port=port)
        try:
            await server.start()
            assert await manager.run_with_retry(ping, attempts=1)
            assert (health.healthy, health.consecutive_failures) == (True, 0)
            assert health.last_ok_ns is not None
        finally:
            await server.kill()
    finally:
        await manager.close()


async def test_the_heartbeat_marks_the_connection_up_and_down(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, appendonly=False)
    config = RedisConfig(url=server.url, health_check_interval_s=0.1, heartbeat_timeout_s=0.5)
    manager = RedisConnectionManager(config, rng=random.Random(0))
    try:
        await server.start()
        await manager.start()
        await eventually(lambda: manager.health.healthy, what="healthy after start")
        await server.kill()
        await eventually(lambda: not manager.health.healthy, what="unhealthy after a kill")
        await server.start()
        await eventually(lambda: manager.health.healthy, what="healthy after a restart")
    finally:
        await manager.close()
        await server.kill()
