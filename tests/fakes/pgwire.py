"""QuestDB's PostgreSQL wire endpoint, as far as asyncpg needs it (protocol 3.0).

Startup: SSLRequest / GSSENCRequest are declined with `N`; the StartupMessage's user and
database are checked, the password asked for in cleartext (AuthenticationCleartextPassword, as
QuestDB does); then AuthenticationOk, ParameterStatus (server_version "12.3 (questdb)",
encodings UTF8, integer_datetimes on), BackendKeyData and ReadyForQuery.

Simple query (`Q`, several statements split on `;`) and the extended protocol: Parse, Describe
(statement: ParameterDescription + RowDescription/NoData; portal: RowDescription), Bind (text or
binary parameters and results), Execute with a row limit (PortalSuspended while rows remain,
so cursors page), Close, Flush, Sync (ends the implicit transaction and its portals) and
Terminate. After an error every message up to Sync is ignored. BEGIN / COMMIT / ROLLBACK move
the transaction status reported in ReadyForQuery between `I` and `T`.

Types: bool 16, int8 20, float8 701, varchar 1043, timestamp 1114 (binary: int64 microseconds
since 2000-01-01), all builtin, so asyncpg never runs its type introspection query. The SQL
itself is the subset in tests.fakes.questdb_sql, answered by tests.fakes.questdb_tables.

Fault knobs: `fail_next_queries` fails that many executions with an ErrorResponse; `delay_s`
waits before handling every message. `statements` records every SQL text received,
`executions` every (sql, parameters) executed, `startups` every StartupMessage's parameters.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass, field

from tests.fakes.pgwire_codec import (
    ProtocolViolation,
    cstrings,
    decode_value,
    encode_value,
    message,
    startup_parameters,
)
from tests.fakes.questdb_sql import (
    CreateTable,
    FakeSqlError,
    Select,
    Statement,
    TransactionControl,
    parse_sql,
)
from tests.fakes.questdb_tables import FakeQuestDb, Value
from tests.fakes.tcp_server import FakeTcpServer

_SSL_REQUEST, _GSSENC_REQUEST, _PROTOCOL_3 = 80877103, 80877104, 196608
_PARAMETERS = {
    "server_version": "12.3 (questdb)",
    "server_encoding": "UTF8",
    "client_encoding": "UTF8",
    "DateStyle": "ISO, MDY",
    "integer_datetimes": "on",
    "TimeZone": "UTC",
}


class _QueryFailed(Exception):
    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code


@dataclass(slots=True)
class _Prepared:
    sql: str
    statement: Statement
    param_types: list[int]
    columns: list[tuple[str, int]]


@dataclass(slots=True)
class _Portal:
    prepared: _Prepared
    params: list[Value]
    formats: list[int]
    rows: list[tuple[Value, ...]] | None = None
    sent: int = 0


@dataclass(slots=True)
class _Session:
    in_transaction: bool = False
    skipping_to_sync: bool = False
    statements: dict[str, _Prepared] = field(default_factory=dict)
    portals: dict[str, _Portal] = field(default_factory=dict)
    out: bytearray = field(default_factory=bytearray)


class FakePgWireServer(FakeTcpServer):
    def __init__(
        self,
        db: FakeQuestDb,
        *,
        user: str = "admin",
        password: str = "quest",
        database: str = "qdb",
    ) -> None:
        super().__init__()
        self.db = db
        self.user, self.password, self.database = user, password, database
        self.fail_next_queries = 0
        self.delay_s = 0.0
        self.statements: list[str] = []
        self.executions: list[tuple[str, tuple[Value, ...]]] = []
        self.startups: list[dict[str, str]] = []
        self.suspended_portals = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not await self._startup(reader, writer):
            return
        session = _Session()
        while True:
            kind = await reader.readexactly(1)
            (length,) = struct.unpack("!i", await reader.readexactly(4))
            payload = await reader.readexactly(length - 4)
            if kind == b"X":
                return
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            self._handle(session, kind, payload)
            if kind in b"QSH" and session.out:
                writer.write(bytes(session.out))
                session.out.clear()
                await writer.drain()

    async def _startup(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        while True:
            (length,) = struct.unpack("!i", await reader.readexactly(4))
            body = await reader.readexactly(length - 4)
            (code,) = struct.unpack_from("!i", body)
            if code not in (_SSL_REQUEST, _GSSENC_REQUEST):
                break
            writer.write(b"N")
            await writer.drain()
        if code != _PROTOCOL_3:
            writer.write(_error("08P01", f"unsupported protocol {code}"))
            return False
        params = startup_parameters(body[4:])
        self.startups.append(params)
        writer.write(message(b"R", struct.pack("!i", 3)))  # AuthenticationCleartextPassword
        await writer.drain()
        kind = await reader.readexactly(1)
        (length,) = struct.unpack("!i", await reader.readexactly(4))
        (password,), _ = cstrings(await reader.readexactly(length - 4), 1)
        if kind != b"p" or (params.get("user"), password) != (self.user, self.password):
            writer.write(_error("28P01", "invalid username/password"))
            return False
        if params.get("database", self.user) != self.database:
            writer.write(_error("3D000", f"database {params.get('database')!r} does not exist"))
            return False
        out = bytearray(message(b"R", struct.pack("!i", 0)))
        for name, value in _PARAMETERS.items():
            out += message(b"S", name.encode() + b"\0" + value.encode() + b"\0")
        out += message(b"K", struct.pack("!ii", self.connections, 12345))
        out += message(b"Z", b"I")
        writer.write(bytes(out))
        await writer.drain()
        return True

    def _handle(self, session: _Session, kind: bytes, payload: bytes) -> None:
        if kind == b"S":
            session.skipping_to_sync = False
            if not session.in_transaction:
                session.portals.clear()
            session.out += _ready(session)
            return
        if kind == b"Q":
            session.skipping_to_sync = False
            self._simple_query(session, cstrings(payload, 1)[0][0])
            session.out += _ready(session)
            return
        if session.skipping_to_sync or kind == b"H":
            return
        handlers = {b"P": self._parse, b"D": self._describe, b"B": self._bind}
        handlers |= {b"E": self._execute, b"C": self._close}
        try:
            if kind not in handlers:
                raise ProtocolViolation(f"unexpected message {kind!r}")
            handlers[kind](session, payload)
        except (FakeSqlError, _QueryFailed, ProtocolViolation) as exc:
            session.out += _failure(exc)
            session.skipping_to_sync = True

    def _simple_query(self, session: _Session, sql: str) -> None:
        parts = [part for part in sql.split(";") if part.strip()]
        if not parts:
            session.out += message(b"I", b"")
        for part in parts:
            try:
                prepared = self._prepare(part)
                rows, tag = self._run(session, prepared, [])
            except (FakeSqlError, _QueryFailed) as exc:
                session.out += _failure(exc)
                return
            if rows is not None:
                session.out += _row_description(prepared.columns, [0] * len(prepared.columns))
                session.out += b"".join(_data_row(prepared.columns, row, [0]) for row in rows)
            session.out += message(b"C", tag.encode() + b"\0")

    def _prepare(self, sql: str) -> _Prepared:
        self.statements.append(sql)
        statement = parse_sql(sql)
        if isinstance(statement, Select):
            params, columns = self.db.describe(statement)
            return _Prepared(sql, statement, params, columns)
        return _Prepared(sql, statement, [], [])

    def _run(
        self, session: _Session, prepared: _Prepared, params: list[Value]
    ) -> tuple[list[tuple[Value, ...]] | None, str]:
        """Execute a statement: (rows or None when it returns none, command tag)."""
        statement = prepared.statement
        self.executions.append((prepared.sql, tuple(params)))
        if isinstance(statement, TransactionControl):
            session.in_transaction = statement.verb == "BEGIN"
            if not session.in_transaction:
                session.portals.clear()
            return None, statement.verb
        if self.fail_next_queries > 0:
            self.fail_next_queries -= 1
            raise _QueryFailed("XX000", "fake failure injected")
        if isinstance(statement, CreateTable):
            self.db.create_table(statement)
            return None, "CREATE TABLE"
        rows = self.db.select(statement, params)
        return rows, f"SELECT {len(rows)}"

    def _parse(self, session: _Session, payload: bytes) -> None:
        (name, sql), _ = cstrings(payload, 2)
        session.statements[name] = self._prepare(sql)
        session.out += message(b"1", b"")

    def _describe(self, session: _Session, payload: bytes) -> None:
        target, ((name,), _) = payload[:1], cstrings(payload, 1, at=1)
        if target == b"S":
            prepared = self._statement(session, name)
            types = prepared.param_types
            session.out += message(b"t", struct.pack(f"!h{len(types)}i", len(types), *types))
            formats = [0] * len(prepared.columns)
        else:
            portal = self._portal(session, name)
            prepared, formats = portal.prepared, portal.formats
        if isinstance(prepared.statement, Select):
            session.out += _row_description(prepared.columns, formats)
        else:
            session.out += message(b"n", b"")

    def _bind(self, session: _Session, payload: bytes) -> None:
        (portal_name, statement_name), at = cstrings(payload, 2)
        prepared = self._statement(session, statement_name)
        param_formats, at = _int16_list(payload, at)
        (count,), at = struct.unpack_from("!h", payload, at), at + 2
        if count != len(prepared.param_types):
            raise ProtocolViolation(
                f"bind has {count} parameters, statement needs {len(prepared.param_types)}"
            )
        params: list[Value] = []
        for i, oid in enumerate(prepared.param_types):
            (size,), at = struct.unpack_from("!i", payload, at), at + 4
            raw = None if size < 0 else payload[at : at + size]
            at += max(size, 0)
            fmt = param_formats[i] if len(param_formats) > 1 else (param_formats or [0])[0]
            params.append(None if raw is None else decode_value(oid, raw, fmt))
        result_formats, _ = _int16_list(payload, at)
        formats = [
            result_formats[i] if len(result_formats) > 1 else (result_formats or [0])[0]
            for i in range(len(prepared.columns))
        ]
        session.portals[portal_name] = _Portal(prepared, params, formats)
        session.out += message(b"2", b"")

    def _execute(self, session: _Session, payload: bytes) -> None:
        (name,), at = cstrings(payload, 1)
        (limit,) = struct.unpack_from("!i", payload, at)
        portal = self._portal(session, name)
        if portal.rows is None:
            rows, tag = self._run(session, portal.prepared, portal.params)
            if rows is None:
                session.out += message(b"C", tag.encode() + b"\0")
                return
            portal.rows = rows
        end = len(portal.rows) if limit <= 0 else min(portal.sent + limit, len(portal.rows))
        columns = portal.prepared.columns
        for row in portal.rows[portal.sent : end]:
            session.out += _data_row(columns, row, portal.formats)
        sent_now, portal.sent = end - portal.sent, end
        if end < len(portal.rows):
            self.suspended_portals += 1
            session.out += message(b"s", b"")
        else:
            session.out += message(b"C", f"SELECT {sent_now}".encode() + b"\0")

    def _close(self, session: _Session, payload: bytes) -> None:
        target, ((name,), _) = payload[:1], cstrings(payload, 1, at=1)
        (session.statements if target == b"S" else session.portals).pop(name, None)
        session.out += message(b"3", b"")

    def _statement(self, session: _Session, name: str) -> _Prepared:
        if name not in session.statements:
            raise ProtocolViolation(f"prepared statement {name!r} does not exist")
        return session.statements[name]

    def _portal(self, session: _Session, name: str) -> _Portal:
        if name not in session.portals:
            raise ProtocolViolation(f"portal {name!r} does not exist")
        return session.portals[name]


def _int16_list(payload: bytes, at: int) -> tuple[list[int], int]:
    (count,) = struct.unpack_from("!h", payload, at)
    values = list(struct.unpack_from(f"!{count}h", payload, at + 2))
    return values, at + 2 + 2 * count


def _row_description(columns: list[tuple[str, int]], formats: list[int]) -> bytes:
    body = bytearray(struct.pack("!h", len(columns)))
    for (name, oid), fmt in zip(columns, formats, strict=True):
        size = {16: 1, 20: 8, 701: 8, 1114: 8}.get(oid, -1)
        body += name.encode() + b"\0" + struct.pack("!ihihih", 0, 0, oid, size, -1, fmt)
    return message(b"T", bytes(body))


def _data_row(columns: list[tuple[str, int]], row: tuple[Value, ...], formats: list[int]) -> bytes:
    body = bytearray(struct.pack("!h", len(columns)))
    for i, ((_, oid), value) in enumerate(zip(columns, row, strict=True)):
        if value is None:
            body += struct.pack("!i", -1)
            continue
        encoded = encode_value(oid, value, formats[i] if len(formats) > 1 else formats[0])
        body += struct.pack("!i", len(encoded)) + encoded
    return message(b"D", bytes(body))


def _ready(session: _Session) -> bytes:
    return message(b"Z", b"T" if session.in_transaction else b"I")


def _failure(exc: Exception) -> bytes:
    if isinstance(exc, _QueryFailed):
        return _error(exc.code, str(exc))
    if isinstance(exc, ProtocolViolation):
        return _error("08P01", str(exc))
    return _error("42000", str(exc))


def _error(code: str, text: str) -> bytes:
    fields = [b"SERROR", b"VERROR", b"C" + code.encode(), b"M" + text.encode()]
    return message(b"E", b"\0".join(fields) + b"\0\0")
