"""The execution lease (S10) on every backend: one holder, fencing tokens that only grow."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from app.persistence.lease import SqlLease
from app.ports.lease import ExecutionLease


@pytest.fixture
async def leases(migrated_db: str) -> AsyncIterator[tuple[ExecutionLease, ExecutionLease]]:
    a, b = SqlLease(migrated_db), SqlLease(migrated_db)
    await a.start()
    await b.start()
    yield a, b
    await a.close()
    await b.close()


async def test_only_one_holder_at_a_time(leases: tuple[ExecutionLease, ExecutionLease]) -> None:
    a, b = leases
    token = await a.acquire(holder="a", ttl_ms=60_000)
    assert token is not None
    assert await b.acquire(holder="b", ttl_ms=60_000) is None
    assert await b.verify(token)
    assert await a.renew(holder="a", token=token, ttl_ms=60_000)


async def test_expired_lease_is_taken_over_and_the_old_token_is_fenced(
    leases: tuple[ExecutionLease, ExecutionLease],
) -> None:
    a, b = leases
    old = await a.acquire(holder="a", ttl_ms=150)
    assert old is not None
    async with asyncio.timeout(10):
        while (new := await b.acquire(holder="b", ttl_ms=60_000)) is None:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    assert new > old
    assert not await a.verify(old)
    assert await a.verify(new)
    assert not await a.renew(holder="a", token=old, ttl_ms=60_000)


async def test_release_frees_it_for_the_standby(
    leases: tuple[ExecutionLease, ExecutionLease],
) -> None:
    a, b = leases
    token = await a.acquire(holder="a", ttl_ms=60_000)
    assert token is not None
    await a.release(holder="a", token=token)
    assert not await a.verify(token)
    taken = await b.acquire(holder="b", ttl_ms=60_000)
    assert taken is not None and taken > token


async def test_concurrent_acquires_elect_exactly_one(migrated_db: str) -> None:
    contenders = [SqlLease(migrated_db) for _ in range(5)]
    for lease in contenders:
        await lease.start()
    tokens = await asyncio.gather(
        *(lease.acquire(holder=f"h{i}", ttl_ms=60_000) for i, lease in enumerate(contenders))
    )
    for lease in contenders:
        await lease.close()
    assert sum(token is not None for token in tokens) == 1
