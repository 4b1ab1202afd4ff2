"""The TickStore contract, run against every implementation."""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.calendar import local_time_ns
from app.domain.market import Tick
from app.ports.tickstore import TickStore
from app.tickstore.memory import MemoryTickStore
from app.tickstore.parquet import ParquetTickStore
from app.tickstore.questdb import QuestDbTickStore
from tests.fakes.questdb_server import FakeQuestDbServer

NS = 1_000_000_000
DAY1 = local_time_ns(dt.date(2026, 3, 9), 9, 30)
DAY2 = local_time_ns(dt.date(2026, 3, 10), 9, 30)
EVENING = local_time_ns(dt.date(2026, 3, 9), 23, 59)  # still March 9 in New York, not in UTC
KINDS = ["memory", "parquet", "questdb"]

# Every QuestDB case starts a new store (so a new ILP sender) against a new fake server: the
# reconnection burst the questdb client warns about in production is this suite's design.


@asynccontextmanager
async def opened(
    kind: str, root: Path, *, flush_rows: int = 4, batch_size: int = 3
) -> AsyncIterator[TickStore]:
    """A ready store of `kind`; QuestDB runs against a fake server that lives as long."""
    if kind == "memory":
        yield MemoryTickStore(batch_size=batch_size)
    elif kind == "parquet":
        yield ParquetTickStore(root, flush_rows=flush_rows, batch_size=batch_size)
    else:
        async with FakeQuestDbServer() as server:
            config = server.store_config(flush_rows=flush_rows, batch_size=batch_size)
            store = QuestDbTickStore(config)
            await store.start()
            try:
                yield store
            finally:
                await store.close()


@pytest.fixture(params=KINDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[TickStore]:
    async with opened(request.param, tmp_path / "ticks") as ready:
        yield ready


async def read_all(
    store: TickStore,
    start_ns: int = 0,
    end_ns: int = 2**62,
    symbols: Collection[str] | None = None,
) -> list[list[Tick]]:
    return [batch async for batch in store.read(start_ns=start_ns, end_ns=end_ns, symbols=symbols)]


def flat(batches: list[list[Tick]]) -> list[Tick]:
    return [t for batch in batches for t in batch]


def time_order(ticks: list[Tick]) -> list[Tick]:
    return sorted(ticks, key=lambda t: (t.ts_ns, t.symbol, t.seq))


TICKS = [
    Tick("BBB", DAY2 + 5, 3.5, 100, 1),
    Tick("AAA", DAY1, 10.0, 100, 1),
    Tick("BBB", DAY1, 3.0, 50, 1),
    Tick("AAA", DAY1, 10.01, 200, 2),
    Tick("AAA", EVENING, 10.2, 300, 3),
    Tick("CCC", DAY1 + NS, 0.5123, 1000, 7),
    Tick("AAA", DAY2, 10.5, 100, 4),
    Tick("CCC", DAY2 + 1, 0.52, 10, 8),
]


async def test_written_ticks_come_back_in_time_order_in_batches(store: TickStore) -> None:
    await store.write(TICKS[:3])
    await store.write(TICKS[3:])
    batches = await read_all(store)
    assert flat(batches) == time_order(TICKS)
    assert all(0 < len(batch) <= 3 for batch in batches)
    await store.close()


async def test_duplicates_keep_the_first_write(store: TickStore) -> None:
    await store.write(TICKS)
    await store.write(TICKS[2:5])
    changed = Tick("AAA", DAY1, 99.0, 1, 1)  # same (symbol, ts, seq) as TICKS[1]
    await store.write([changed, TICKS[0], TICKS[0]])
    assert flat(await read_all(store)) == time_order(TICKS)
    await store.close()


async def test_range_is_start_inclusive_end_exclusive(store: TickStore) -> None:
    await store.write(TICKS)
    got = flat(await read_all(store, DAY1, DAY2))
    assert got == time_order([t for t in TICKS if DAY1 <= t.ts_ns < DAY2])
    assert flat(await read_all(store, DAY1 + 1, DAY2 + 1)) == time_order(
        [t for t in TICKS if DAY1 + 1 <= t.ts_ns < DAY2 + 1]
    )
    assert await read_all(store, DAY2 + 6, DAY2 + 6) == []
    assert await read_all(store, DAY2, DAY1) == []
    await store.close()


async def test_symbol_filter(store: TickStore) -> None:
    await store.write(TICKS)
    got = flat(await read_all(store, symbols={"AAA", "CCC", "ZZZ"}))
    assert got == time_order([t for t in TICKS if t.symbol in {"AAA", "CCC"}])
    assert await read_all(store, symbols=[]) == []
    await store.close()


async def test_writes_after_close_are_refused_and_reads_still_work(store: TickStore) -> None:
    await store.write(TICKS[:2])
    await store.close()
    with pytest.raises(RuntimeError, match="closed"):
        await store.write(TICKS[2:])
    assert flat(await read_all(store)) == time_order(TICKS[:2])


async def test_parquet_persists_across_reopen(tmp_path: Path) -> None:
    root = tmp_path / "ticks"
    first = ParquetTickStore(root, flush_rows=100)
    await first.write(TICKS)
    await first.close()
    reopened = ParquetTickStore(root, flush_rows=100)
    assert flat(await read_all(reopened)) == time_order(TICKS)
    await reopened.write([Tick("AAA", DAY1, 1.0, 1, 1), Tick("DDD", DAY1, 1.0, 1, 1)])
    await reopened.close()
    third = ParquetTickStore(root)
    assert flat(await read_all(third)) == time_order([*TICKS, Tick("DDD", DAY1, 1.0, 1, 1)])

    assert sorted(p.name for p in root.iterdir()) == ["date=2026-03-09", "date=2026-03-10"]
    files = sorted(root.rglob("*"))
    assert not [p for p in files if p.name.startswith(".")]
    part = next(p for p in files if p.suffix == ".parquet")
    schema = pq.read_schema(part)
    assert [(f.name, str(f.type)) for f in schema] == [
        ("symbol", "string"),
        ("ts_ns", "int64"),
        ("price", "double"),
        ("size", "int64"),
        ("seq", "int64"),
    ]


async def test_parquet_buffers_until_flush_rows(tmp_path: Path) -> None:
    root = tmp_path / "ticks"
    store = ParquetTickStore(root, flush_rows=5)
    await store.write(TICKS[:4])
    assert not root.exists()
    await store.write(TICKS[4:5])
    assert len(list(root.rglob("*.parquet"))) == 2  # two New York dates
    await store.close()


STORED = st.lists(
    st.builds(
        Tick,
        symbol=st.sampled_from(["AAA", "BBB", "CCC"]),
        ts_ns=st.integers(min_value=DAY1 - 20 * 3_600 * NS, max_value=DAY2 + 20 * 3_600 * NS),
        price=st.floats(min_value=0.0001, max_value=1_000.0),
        size=st.integers(min_value=1, max_value=10**6),
        seq=st.integers(min_value=0, max_value=3),
    ),
    max_size=40,
)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=30, deadline=None)
@given(
    writes=st.lists(STORED, max_size=4),
    bounds=st.tuples(st.integers(DAY1 - 24 * 3_600 * NS, DAY2 + 24 * 3_600 * NS), st.integers()),
    symbols=st.none() | st.sets(st.sampled_from(["AAA", "BBB", "CCC"])),
)
def test_reads_match_a_model(
    kind: str,
    writes: list[list[Tick]],
    bounds: tuple[int, int],
    symbols: set[str] | None,
) -> None:
    start, span = bounds[0], abs(bounds[1]) % (3 * 24 * 3_600 * NS)
    model: dict[tuple[str, int, int], Tick] = {}
    for chunk in writes:
        for t in chunk:
            model.setdefault((t.symbol, t.ts_ns, t.seq), t)
    expected = time_order(
        [
            t
            for t in model.values()
            if start <= t.ts_ns < start + span and (symbols is None or t.symbol in symbols)
        ]
    )

    async def scenario(root: Path) -> list[Tick]:
        async with opened(kind, root, flush_rows=7, batch_size=5) as store:
            for chunk in writes:
                await store.write(chunk)
            got = flat(await read_all(store, start, start + span, symbols))
            await store.close()
        return got

    with tempfile.TemporaryDirectory() as tmp:
        assert asyncio.run(scenario(Path(tmp))) == expected
