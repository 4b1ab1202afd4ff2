"""The QuestDB tick store against a fake QuestDB that speaks ILP/HTTP and the PostgreSQL wire.

The store uses the real clients (`questdb.Sender`, asyncpg); tests.fakes.questdb_server answers
them over sockets and keeps what they sent, so these tests check the schema, the lines and the
queries QuestDB would receive, and how the store behaves when the server fails.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress
from typing import Any

import pytest

from app.domain.calendar import local_time_ns
from app.domain.market import Tick
from app.tickstore.questdb import QuestDbConfig, QuestDbTickStore
from app.tickstore.questdb_errors import TickStoreError, TickStoreRejected, TickStoreUnavailable
from tests.contract.test_tickstore_contract import flat, read_all, time_order
from tests.fakes.ilp_parser import IlpLine, IlpTimestamp, IlpValue, parse_ilp
from tests.fakes.questdb_server import FakeQuestDbServer

# Each test starts new ILP senders against a new fake server, which the client warns about.


NS = 1_000_000_000
T0 = local_time_ns(dt.date(2026, 3, 9), 9, 30)
DDL = (
    "CREATE TABLE IF NOT EXISTS ticks (symbol SYMBOL, price DOUBLE, size LONG, seq LONG, "
    "ts_ns LONG, ts TIMESTAMP) TIMESTAMP(ts) PARTITION BY DAY WAL "
    "DEDUP UPSERT KEYS(ts, symbol, seq, ts_ns)"
)
TICKS = [
    Tick("AAA", T0, 10.0, 100, 1),
    Tick("BBB", T0, 3.0, 50, 1),
    Tick("AAA", T0 + 1, 10.01, 200, 2),  # the same microsecond as the first
    Tick("CCC", T0 + NS, 0.1 + 0.2, 10**12, 7),
    Tick("AAA", T0 + 2 * NS, 1e-7, 1, 3),
]

StoreFactory = Callable[..., Awaitable[QuestDbTickStore]]


@pytest.fixture
async def qdb() -> AsyncIterator[FakeQuestDbServer]:
    async with FakeQuestDbServer() as server:
        yield server


@pytest.fixture
async def open_store(qdb: FakeQuestDbServer) -> AsyncIterator[StoreFactory]:
    """Start stores on the fake server; each is closed (if it still can be) after the test."""
    stores: list[QuestDbTickStore] = []

    async def make(**overrides: Any) -> QuestDbTickStore:
        store = QuestDbTickStore(qdb.store_config(**overrides))
        await store.start()
        stores.append(store)
        return store

    yield make
    for store in stores:
        with suppress(TickStoreError):
            await store.close()


def ilp_line(tick: Tick) -> IlpLine:
    fields: dict[str, IlpValue] = {
        "price": tick.price,
        "size": tick.size,
        "seq": tick.seq,
        "ts_ns": tick.ts_ns,
    }
    return IlpLine("ticks", {"symbol": tick.symbol}, fields, IlpTimestamp(tick.ts_ns, "n"))


async def wait_until(condition: Callable[[], object], *, timeout_s: float = 5.0) -> None:
    """Poll `condition` every 5 ms; fail after `timeout_s`."""
    for _ in range(int(timeout_s / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not met in time")


async def test_start_creates_the_table_with_designated_timestamp_and_dedup_keys(
    qdb: FakeQuestDbServer, open_store: StoreFactory
) -> None:
    await open_store()

    assert qdb.pg.statements == [DDL]
    assert qdb.pg.startups[0]["user"] == "admin"
    assert qdb.pg.startups[0]["database"] == "qdb"
    table = qdb.table("ticks")
    assert list(table.columns.items()) == [
        *[("symbol", "SYMBOL"), ("price", "DOUBLE"), ("size", "LONG"), ("seq", "LONG")],
        *[("ts_ns", "LONG"), ("ts", "TIMESTAMP")],
    ]
    assert (table.designated, table.partition_by, table.wal) == ("ts", "DAY", True)
    assert table.dedup_keys == ("ts", "symbol", "seq", "ts_ns")
    assert [r.path for r in qdb.http.requests] == ["/settings"]  # protocol version negotiated


async def test_start_keeps_an_existing_table_and_its_rows(
    qdb: FakeQuestDbServer, open_store: StoreFactory
) -> None:
    first = await open_store()
    await first.write(TICKS)
    await first.close()

    second = await open_store()

    assert qdb.pg.statements.count(DDL) == 2
    assert flat(await read_all(second)) == time_order(TICKS)


@pytest.mark.parametrize("version", [None, 1, 2])
async def test_writes_arrive_as_ilp_lines_with_nanosecond_timestamps(
    qdb: FakeQuestDbServer, open_store: StoreFactory, version: int | None
) -> None:
    conf = f"http::addr=127.0.0.1:{qdb.http.port};retry_timeout=0;"
    if version is not None:
        conf += f"protocol_version={version};"
    store = await open_store(ilp_conf=conf, flush_rows=2)

    ticks = [Tick("AAA", T0 + 1, 10.01, 100, 1), Tick("BRK.B", T0 + 2, 0.3, 5, 2)]
    await store.write(ticks)

    (write,) = qdb.http.writes
    assert write.query == {"precision": ["n"]}
    assert parse_ilp(write.body) == [ilp_line(tick) for tick in ticks]
    assert write.body.startswith(b"ticks,symbol=AAA price=")
    assert (b"price==" in write.body) == (version != 1)  # protocol 2 sends binary doubles
    stored = [(row["ts"], row["ts_ns"]) for row in qdb.table("ticks").rows]
    assert stored == [(t.ts_ns // 1000, t.ts_ns) for t in ticks]  # TIMESTAMP is microseconds


async def test_an_old_server_gets_protocol_1() -> None:
    async with FakeQuestDbServer(ilp_versions=(1,)) as old:
        store = QuestDbTickStore(old.store_config())
        await store.start()
        await store.write(TICKS)
        await store.close()
        (write,) = old.http.writes
        assert b"price==" not in write.body
        assert flat(await read_all(store)) == time_order(TICKS)


async def test_ticks_are_buffered_until_flush_rows_then_sent_in_one_request(
    qdb: FakeQuestDbServer, open_store: StoreFactory
) -> None:
    store = await open_store(flush_rows=3)

    await store.write(TICKS[:2])
    assert qdb.http.writes == []
    await store.write(TICKS[2:4])
    assert [len(parse_ilp(w.body)) for w in qdb.http.writes] == [4]
    await store.write(TICKS[4:])
    assert [len(parse_ilp(w.body)) for w in qdb.http.writes] == [4]
    await store.close()
    assert [len(parse_ilp(w.body)) for w in qdb.http.writes] == [4, 1]


async def test_round_trips_are_exact_to_the_nanosecond(
    qdb: FakeQuestDbServer, open_store: StoreFactory
) -> None:
    same_microsecond = [Tick("AAA", T0 + n, 1.0 + n, 1, 0) for n in (0, 1, 999)]
    store = await open_store()

    await store.write([*TICKS, *same_microsecond])

    assert flat(await read_all(store)) == time_order([*TICKS, *same_microsecond])
    assert len(qdb.table("ticks").rows) == len(TICKS) + len(same_microsecond)


async def test_reads_are_parameterised_half_open_and_paged_through_a_cursor(
    qdb: FakeQuestDbServer, open_store: StoreFactory
) -> None:
    store = await open_store(batch_size=2)
    await store.write(TICKS)
    start, end = T0 + 1, T0 + 2 * NS

    batches = await read_all(store, start, end, symbols=["CCC", "AAA", "AAA"])

    assert flat(batches) == [TICKS[2], TICKS[3]]
    assert [len(b) for b in batches] == [2]
    (sql, params) = next((s, p) for s, p in qdb.pg.executions if s.startswith("SELECT symbol"))
    assert sql == (
        "SELECT symbol, ts_ns, price, size, seq FROM ticks WHERE ts >= $1 AND ts < $2 "
        "AND ts_ns >= $3 AND ts_ns < $4 AND symbol IN ($5, $6) ORDER BY ts_ns, symbol, seq"
    )
    assert params == (start // 1000 - 1, (end - 1) // 1000 + 2, start, end, "AAA", "CCC")
    verbs = [s.split()[0] for s, _ in qdb.pg.executions]
    assert verbs[-3:] == ["BEGIN", "SELECT", "COMMIT"]

    assert [len(b) for b in await read_all(store)] == [2, 2, 1]
    assert qdb.pg.suspended_portals >= 2


async def test_a_server_error_raises_a_transient_error_and_the_next_flush_sends_the_ticks(
    qdb: FakeQuestDbServer, open_store: StoreFactory
) -> None:
    store = await open_store(flush_rows=2)
    qdb.http.fail_next_writes = 1

    with pytest.raises(TickStoreUnavailable, match="kept for the next flush"):
        await store.write(TICKS[:2])
    assert qdb.table("ticks").rows == []

    await store.flush()
    assert [parse_ilp(w.body) for w in qdb.http.writes[:1]] == [parse_ilp(qdb.http.writes[1].body)]
    assert flat(await read_all(store)) == time_order(TICKS[:2])


async def test_ticks_wait_in_the_buffer_while_the_server_is_down(
    qdb: FakeQuestDbServer, open_store: StoreFactory
) -> None:
    store = await open_store(flush_rows=2)
    await qdb.http.stop()

    with pytest.raises(TickStoreUnavailable):
        await store.write(TICKS[:2])
    with pytest.raises(TickStoreUnavailable):
        await store.write(TICKS[:2])  # a redelivery: not buffered twice
    with pytest.raises(TickStoreUnavailable):
        await store.close()

    await qdb.http.start(port=qdb.http.port)
    await store.close()
    assert [len(parse_ilp(w.body)) for w in qdb.http.writes] == [2]
    assert flat(await read_all(store)) == time_order(TICKS[:2])


async def test_a_cancelled_flush_keeps_its_ticks_and_the_resend_is_harmless(
    qdb: FakeQuestDbServer, open_store: StoreFactory
) -> None:
    store = await open_store(flush_rows=100)
    await store.write(TICKS)
    qdb.http.delay_s = 0.2
    flushing = asyncio.create_task(store.flush())
    await wait_until(lambda: qdb.http.writes)  # the fake runs on this loop: the flush left it free
    assert not flushing.done()

    flushing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await flushing
    qdb.http.delay_s = 0.0
    await store.flush()

    assert len(qdb.http.writes) == 2
    assert len(qdb.table("ticks").rows) == len(TICKS)
    assert flat(await read_all(store)) == time_order(TICKS)


async def test_duplicates_within_a_store_never_reach_the_server(
    qdb: FakeQuestDbServer, open_store: StoreFactory
) -> None:
    store = await open_store(flush_rows=2)
    await store.write(TICKS)
    await store.write([*TICKS, Tick("AAA", T0, 99.0, 1, 1)])  # a changed copy of TICKS[0]
    await store.flush()

    assert sum(len(parse_ilp(w.body)) for w in qdb.http.writes) == len(TICKS)
    assert flat(await read_all(store)) == time_order(TICKS)


async def test_a_replay_from_a_restarted_process_is_deduplicated_by_questdb(
    qdb: FakeQuestDbServer, open_store: StoreFactory
) -> None:
    before = await open_store()
    await before.write(TICKS)
    await before.close()

    after = await open_store()  # remembers nothing: the rows go out again
    await after.write(TICKS)
    await after.close()

    assert sum(len(parse_ilp(w.body)) for w in qdb.http.writes) == 2 * len(TICKS)
    assert len(qdb.table("ticks").rows) == len(TICKS)
    assert flat(await read_all(after)) == time_order(TICKS)


async def test_a_changed_tick_from_another_process_replaces_the_stored_one(
    open_store: StoreFactory,
) -> None:
    """The documented difference: across processes, QuestDB's UPSERT keeps the last write."""
    before = await open_store()
    await before.write(TICKS)
    await before.close()
    changed = Tick("AAA", T0, 99.0, 1, 1)

    after = await open_store()
    await after.write([changed])
    await after.close()

    assert flat(await read_all(after, T0, T0 + 1, symbols=["AAA"])) == [changed]


async def test_remembered_keys_are_bounded(
    qdb: FakeQuestDbServer, open_store: StoreFactory
) -> None:
    store = await open_store(remembered_keys=2)
    await store.write(TICKS[:3])
    await store.write([TICKS[2], TICKS[0]])  # TICKS[0] was forgotten, so it is sent again

    await store.flush()
    assert parse_ilp(qdb.http.writes[0].body) == [ilp_line(t) for t in [*TICKS[:3], TICKS[0]]]
    assert flat(await read_all(store)) == time_order(TICKS[:3])


async def test_reads_wait_until_questdb_has_applied_the_writes(
    qdb: FakeQuestDbServer, open_store: StoreFactory
) -> None:
    qdb.db.wal_lag_polls = 3
    store = await open_store()
    await store.write(TICKS)

    def polls() -> int:
        return sum("wal_tables()" in sql for sql, _ in qdb.pg.executions)

    assert flat(await read_all(store)) == time_order(TICKS)
    assert polls() == 3
    await read_all(store)
    assert polls() == 3  # nothing new was written: no need to ask again


async def test_reads_are_unavailable_while_questdb_does_not_apply_the_writes(
    qdb: FakeQuestDbServer, open_store: StoreFactory
) -> None:
    qdb.db.wal_lag_polls = 10**6
    store = await open_store(visibility_timeout_s=0.2)
    await store.write(TICKS)

    with pytest.raises(TickStoreUnavailable, match="not applied after"):
        await read_all(store)
    qdb.table("ticks").suspended = True
    with pytest.raises(TickStoreUnavailable, match="suspended"):
        await read_all(store)


async def test_query_failures_are_classified(
    qdb: FakeQuestDbServer, open_store: StoreFactory
) -> None:
    store = await open_store()
    await store.write(TICKS)
    qdb.pg.fail_next_queries = 1

    with pytest.raises(TickStoreRejected, match="fake failure injected"):
        await read_all(store)
    assert flat(await read_all(store)) == time_order(TICKS)

    await qdb.pg.stop()
    with pytest.raises(TickStoreUnavailable, match="read ticks"):
        await read_all(store)


async def test_start_fails_clearly(qdb: FakeQuestDbServer) -> None:
    with pytest.raises(TickStoreRejected, match="create the tick table"):
        await QuestDbTickStore(qdb.store_config(password="wrong")).start()

    await qdb.http.stop()
    with pytest.raises(TickStoreUnavailable, match="reach the ILP endpoint"):
        await QuestDbTickStore(qdb.store_config()).start()

    await qdb.pg.stop()
    with pytest.raises(TickStoreUnavailable, match="create the tick table"):
        await QuestDbTickStore(qdb.store_config()).start()


async def test_the_store_must_be_started_and_is_closed_for_writes_only(
    open_store: StoreFactory,
) -> None:
    unstarted = QuestDbTickStore(QuestDbConfig())
    with pytest.raises(RuntimeError, match="start"):
        await unstarted.write(TICKS)
    with pytest.raises(RuntimeError, match="start"):
        await read_all(unstarted)

    store = await open_store()
    with pytest.raises(RuntimeError, match="already started"):
        await store.start()
    await store.write(TICKS)
    await store.close()
    await store.close()
    with pytest.raises(RuntimeError, match="closed"):
        await store.write(TICKS)
    assert flat(await read_all(store)) == time_order(TICKS)


@pytest.mark.parametrize(
    "bad",
    [{"table": "ticks; DROP TABLE x"}, {"flush_rows": 0}, {"visibility_timeout_s": 0}],
)
def test_config_is_validated(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        QuestDbConfig(**bad)
