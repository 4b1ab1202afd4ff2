"""PostgreSQL wire framing and the value formats of the builtin types the fake QuestDB uses.

Timestamps travel as microseconds since the Unix epoch inside the fake (QuestDB's TIMESTAMP); on
the wire they are binary int64 microseconds since 2000-01-01, or text `YYYY-MM-DD HH:MM:SS.ffffff`.
"""

from __future__ import annotations

import datetime as dt
import struct

from tests.fakes.questdb_tables import BOOL, FLOAT8, INT8, TIMESTAMP, VARCHAR, Value

_UNIX_EPOCH = dt.datetime(1970, 1, 1)
_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in microseconds since 1970-01-01
_TEXT, _BINARY = 0, 1


class ProtocolViolation(ValueError):
    """A message the fake server cannot accept at this point (SQLSTATE 08P01)."""


def message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def cstrings(data: bytes, count: int, *, at: int = 0) -> tuple[list[str], int]:
    """`count` NUL-terminated strings from `data[at:]`, and the offset just past them."""
    out: list[str] = []
    for _ in range(count):
        end = data.find(b"\0", at)
        if end < 0:
            raise ProtocolViolation("a string is missing its NUL terminator")
        out.append(data[at:end].decode())
        at = end + 1
    return out, at


def startup_parameters(data: bytes) -> dict[str, str]:
    """The name/value pairs of a StartupMessage body (after the protocol version)."""
    params: dict[str, str] = {}
    at = 0
    while True:
        (name,), at = cstrings(data, 1, at=at)
        if not name:
            return params
        (params[name],), at = cstrings(data, 1, at=at)


def decode_value(oid: int, raw: bytes, fmt: int) -> Value:
    if fmt == _BINARY:
        return _decode_binary(oid, raw)
    text = raw.decode()
    if oid == BOOL:
        return text in ("t", "true", "1")
    if oid == INT8:
        return int(text)
    if oid == FLOAT8:
        return float(text)
    if oid == TIMESTAMP:
        moment = dt.datetime.fromisoformat(text).replace(tzinfo=None)
        return (moment - _UNIX_EPOCH) // dt.timedelta(microseconds=1)
    if oid == VARCHAR:
        return text
    raise ProtocolViolation(f"the fake cannot decode type {oid}")


def encode_value(oid: int, value: Value, fmt: int) -> bytes:
    if fmt == _BINARY:
        return _encode_binary(oid, value)
    if oid == BOOL:
        return b"t" if value else b"f"
    if oid == TIMESTAMP and isinstance(value, int):
        moment = _UNIX_EPOCH + dt.timedelta(microseconds=value)
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f").encode()
    if oid == FLOAT8 and isinstance(value, float):
        return repr(value).encode()
    return str(value).encode()


def _decode_binary(oid: int, raw: bytes) -> Value:
    if oid == BOOL:
        return raw != b"\x00"
    if oid == INT8:
        return int(struct.unpack("!q", raw)[0])
    if oid == FLOAT8:
        return float(struct.unpack("!d", raw)[0])
    if oid == TIMESTAMP:
        return int(struct.unpack("!q", raw)[0]) + _PG_EPOCH_US
    if oid == VARCHAR:
        return raw.decode()
    raise ProtocolViolation(f"the fake cannot decode type {oid}")


def _encode_binary(oid: int, value: Value) -> bytes:
    if oid == BOOL:
        return b"\x01" if value else b"\x00"
    if oid == INT8 and isinstance(value, int):
        return struct.pack("!q", value)
    if oid == FLOAT8 and isinstance(value, float):
        return struct.pack("!d", value)
    if oid == TIMESTAMP and isinstance(value, int):
        return struct.pack("!q", value - _PG_EPOCH_US)
    if oid == VARCHAR and isinstance(value, str):
        return value.encode()
    raise ProtocolViolation(f"the fake cannot encode {value!r} as type {oid}")
