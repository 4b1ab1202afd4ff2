"""The cluster TickStore: QuestDB, written over ILP/HTTP, read over the PostgreSQL wire.

`start()` creates the table if it is missing:

    CREATE TABLE IF NOT EXISTS ticks (symbol SYMBOL, price DOUBLE, size LONG, seq LONG,
        ts_ns LONG, ts TIMESTAMP) TIMESTAMP(ts) PARTITION BY DAY WAL
        DEDUP UPSERT KEYS(ts, symbol, seq, ts_ns)

`ts` is the designated timestamp (partitions, interval scans). QuestDB's TIMESTAMP holds
microseconds, so the tick's nanoseconds are kept in `ts_ns` too: reads filter, order and return
`ts_ns`, and a round trip is exact. `ts_ns` is in the dedup key, so two ticks in the same
microsecond stay apart.

Duplicates. QuestDB's UPSERT keeps the *last* row written for a key, the TickStore contract the
*first*. This store remembers the keys it has accepted (the latest `remembered_keys` of them) and
drops a tick whose key it already took, before it reaches the wire: within one store the first
write wins, as in the other stores. A tick written again by another process, or after its key
left the window, goes to QuestDB, where an identical row (a replay after a crash, the case that
happens) changes nothing and a different one replaces the stored row.

Writes are buffered and sent every `flush_rows` ticks as one ILP/HTTP request (a transaction)
by the synchronous `questdb.Sender`, in a worker thread. A failed flush keeps the ticks for the
next one; the dedup key makes resending safe. Each read opens its own PostgreSQL connection
and pages through a server-side cursor, so reads never block each other and work after
`close()`. WAL tables apply commits asynchronously: a read first waits until QuestDB has
applied what this store flushed, so it sees every completed write.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
from collections import deque
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from questdb import QuestDBError, Sender, TimestampNanos

from app.domain.market import Tick
from app.tickstore.questdb_errors import (
    TickStoreRejected,
    TickStoreUnavailable,
    from_ingest_error,
    from_query_error,
)

_TickKey = tuple[str, int, int]
_T = TypeVar("_T")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,126}\Z")
# asyncpg's codec for TIMESTAMP (zone-less, UTC in QuestDB) takes naive datetimes
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC).replace(tzinfo=None)
_VISIBILITY_POLL_S = 0.05


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestDbConfig:
    """How to reach QuestDB. `ilp_conf` / `pg_dsn`, when given, replace what the host fields
    would build (e.g. to add TLS or `protocol_version=2` to the ILP client's conf string)."""

    host: str = "127.0.0.1"
    http_port: int = 9000
    pg_port: int = 8812
    user: str = "admin"
    password: str = "quest"  # noqa: S105  QuestDB's documented default
    database: str = "qdb"
    ilp_conf: str | None = None
    pg_dsn: str | None = None
    table: str = "ticks"
    flush_rows: int = 50_000
    batch_size: int = 10_000
    remembered_keys: int = 250_000
    retry_timeout_ms: int = 10_000
    connect_timeout_s: float = 10.0
    visibility_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if not _TABLE_NAME.match(self.table):
            raise ValueError(f"table must be a plain SQL identifier, got {self.table!r}")
        if min(self.flush_rows, self.batch_size, self.remembered_keys) < 1:
            raise ValueError("flush_rows, batch_size and remembered_keys must be positive")
        if self.retry_timeout_ms < 0:
            raise ValueError("retry_timeout_ms must not be negative")
        if min(self.connect_timeout_s, self.visibility_timeout_s) <= 0:
            raise ValueError("timeouts must be positive")

    def sender_conf(self) -> str:
        if self.ilp_conf is not None:
            return self.ilp_conf
        return (
            f"http::addr={self.host}:{self.http_port};"
            f"retry_timeout={self.retry_timeout_ms};auto_flush=off;"
        )


class QuestDbTickStore:
    """A TickStore on QuestDB; call `start()` before use."""

    __slots__ = (
        "_buffer",
        "_closed",
        "_config",
        "_flush_lock",
        "_flushed",
        "_seen",
        "_seen_order",
        "_sender",
        "_sql",
        "_started",
        "_visible",
    )

    def __init__(self, config: QuestDbConfig) -> None:
        self._config = config
        self._sql = _Sql(config.table)
        self._sender: Sender | None = None
        self._buffer: list[Tick] = []
        self._seen: set[_TickKey] = set()
        self._seen_order: deque[_TickKey] = deque()
        self._flush_lock = asyncio.Lock()
        self._flushed = 0  # successful flushes so far
        self._visible = 0  # flushes known to be applied by QuestDB
        self._started = False
        self._closed = False

    async def start(self) -> None:
        """Create the table if it is missing and prepare the ILP sender."""
        if self._started:
            raise RuntimeError("the tick store is already started")
        what = "create the tick table"
        with _translating(what):
            connection = await self._connect()
            try:
                await connection.execute(self._sql.create)
            finally:
                await connection.close()
        try:
            sender = Sender.from_conf(self._config.sender_conf())
        except QuestDBError as exc:
            raise from_ingest_error(exc, what="configure the ILP sender") from exc
        try:
            await _in_thread(sender.establish)
        except QuestDBError as exc:
            sender.close(flush=False)
            raise from_ingest_error(exc, what="reach the ILP endpoint") from exc
        self._sender = sender
        self._started = True

    async def write(self, ticks: Sequence[Tick]) -> None:
        if self._closed:
            raise RuntimeError("the tick store is closed")
        self._require_started()
        for tick in ticks:
            key = (tick.symbol, tick.ts_ns, tick.seq)
            if key not in self._seen:
                self._remember(key)
                self._buffer.append(tick)
        if len(self._buffer) >= self._config.flush_rows:
            await self.flush()

    async def flush(self) -> None:
        """Send what is buffered as one ILP request; on failure the ticks stay buffered."""
        async with self._flush_lock:
            sender = self._sender
            if not self._buffer or sender is None:
                return
            rows, self._buffer = self._buffer, []
            try:
                await _in_thread(_send, sender, table=self._config.table, ticks=rows)
            except BaseException as exc:
                self._buffer[:0] = rows
                if isinstance(exc, QuestDBError):
                    what = f"flush {len(rows)} ticks (kept for the next flush)"
                    raise from_ingest_error(exc, what=what) from exc
                raise
            self._flushed += 1

    async def read(
        self, *, start_ns: int, end_ns: int, symbols: Collection[str] | None = None
    ) -> AsyncIterator[list[Tick]]:
        """Ticks with start_ns <= ts < end_ns in time order (ties by symbol, seq), in batches.

        Buffered ticks are flushed first, so a read sees every completed write.
        """
        start_ns, end_ns = max(start_ns, _INT64_MIN), min(end_ns, _INT64_MAX)
        if end_ns <= start_ns:
            return
        self._require_started()
        await self.flush()
        wanted = sorted(set(symbols)) if symbols is not None else []
        if symbols is not None and not wanted:
            return
        with _translating("read ticks"):
            connection = await self._connect()
            try:
                await self._await_visible(connection)
                async with connection.transaction():
                    cursor = await connection.cursor(
                        self._sql.select(len(wanted)),
                        _micros(start_ns // 1000 - 1),
                        _micros((end_ns - 1) // 1000 + 2),
                        start_ns,
                        end_ns,
                        *wanted,
                    )
                    while records := await cursor.fetch(self._config.batch_size):
                        yield [Tick(r[0], r[1], r[2], r[3], r[4]) for r in records]
            finally:
                await connection.close()

    async def close(self) -> None:
        """Flush the buffer and release the sender; later writes raise, reads still work."""
        await self.flush()
        self._closed = True
        sender, self._sender = self._sender, None
        if sender is not None:
            await _in_thread(sender.close, False)

    def _require_started(self) -> None:
        if not self._started:
            raise RuntimeError("the tick store is not started: await start() first")

    def _remember(self, key: _TickKey) -> None:
        self._seen.add(key)
        self._seen_order.append(key)
        if len(self._seen_order) > self._config.remembered_keys:
            self._seen.discard(self._seen_order.popleft())

    async def _connect(self) -> Any:
        config = self._config
        if config.pg_dsn is not None:
            return await asyncpg.connect(config.pg_dsn, timeout=config.connect_timeout_s)
        return await asyncpg.connect(
            host=config.host,
            port=config.pg_port,
            user=config.user,
            password=config.password,
            database=config.database,
            timeout=config.connect_timeout_s,
        )

    async def _await_visible(self, connection: Any) -> None:
        """Wait until QuestDB has applied every WAL commit this store made so far."""
        goal = self._flushed
        if self._visible >= goal:
            return
        what = f"wait for QuestDB to apply the writes to {self._config.table!r}"
        target: int | None = None
        try:
            async with asyncio.timeout(self._config.visibility_timeout_s):
                while True:
                    row = await connection.fetchrow(self._sql.wal_status, self._config.table)
                    if row is None:
                        raise TickStoreRejected(f"{what}: it is not a WAL table")
                    suspended, writer_txn, sequencer_txn = row[0], row[1], row[2]
                    if suspended:
                        raise TickStoreUnavailable(
                            f"{what}: the table is suspended (see ALTER TABLE ... RESUME WAL)"
                        )
                    target = sequencer_txn if target is None else target
                    if writer_txn >= target:
                        break
                    await asyncio.sleep(_VISIBILITY_POLL_S)
        except TimeoutError as exc:
            raise TickStoreUnavailable(
                f"{what}: not applied after {self._config.visibility_timeout_s}s"
            ) from exc
        self._visible = max(self._visible, goal)


class _Sql:
    """The statements, for one validated table name (identifiers cannot be bind variables)."""

    __slots__ = ("_table", "create", "wal_status")

    def __init__(self, table: str) -> None:
        self._table = table
        self.create = (
            f"CREATE TABLE IF NOT EXISTS {table} (symbol SYMBOL, price DOUBLE, size LONG, "
            "seq LONG, ts_ns LONG, ts TIMESTAMP) TIMESTAMP(ts) PARTITION BY DAY WAL "
            "DEDUP UPSERT KEYS(ts, symbol, seq, ts_ns)"
        )
        self.wal_status = (
            "SELECT suspended, writerTxn, sequencerTxn FROM wal_tables() WHERE name = $1"
        )

    def select(self, symbol_count: int) -> str:
        """$1/$2 bound `ts` for QuestDB's interval scan, $3/$4 bound `ts_ns` exactly, $5..
        are the symbols. The `ts` bounds are a microsecond wider on each side than the `ts_ns`
        ones, so they never cut a row whether QuestDB truncates or rounds the nanoseconds."""
        where = "ts >= $1 AND ts < $2 AND ts_ns >= $3 AND ts_ns < $4"
        if symbol_count:
            params = ", ".join(f"${n}" for n in range(5, 5 + symbol_count))
            where += f" AND symbol IN ({params})"
        return (
            f"SELECT symbol, ts_ns, price, size, seq FROM {self._table} "  # noqa: S608
            f"WHERE {where} ORDER BY ts_ns, symbol, seq"
        )


def _send(sender: Sender, *, table: str, ticks: list[Tick]) -> None:
    """Blocking: one ILP/HTTP request holding `ticks`, committed as one transaction."""
    buffer = sender.new_buffer()
    for tick in ticks:
        buffer.row(
            table,
            symbols={"symbol": tick.symbol},
            columns={
                "price": float(tick.price),
                "size": int(tick.size),
                "seq": int(tick.seq),
                "ts_ns": int(tick.ts_ns),
            },
            at=TimestampNanos(tick.ts_ns),
        )
    sender.flush(buffer, transactional=True)


def _micros(us: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=us)


@contextlib.contextmanager
def _translating(what: str) -> Iterator[None]:
    """Turn asyncpg and network failures inside the block into tick store errors."""
    try:
        yield
    except Exception as exc:
        error = from_query_error(exc, what=what)
        if error is None:
            raise
        raise error from exc


async def _in_thread(fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Run blocking `fn` in a thread. If the caller is cancelled, wait for the thread to end
    first, so no one else uses the (not thread-safe) sender while it is still running."""
    task = asyncio.ensure_future(asyncio.to_thread(fn, *args, **kwargs))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # the caller is gone; mark the outcome as seen
        raise
