"""TWS API framing: a 4-byte big-endian length, then text fields each ending in NUL.

The connection opens with the bare bytes `API\\0` and one framed message holding the client's
version range ("v157..178"); everything after that is framed messages both ways.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Iterable
from decimal import Decimal

HANDSHAKE = b"API\0"
_LENGTH = struct.Struct(">I")
_MAX_MESSAGE = 1 << 24

Field = str | int | float | Decimal | bool | None


class ProtocolError(ValueError):
    """The peer sent something that is not the TWS API protocol."""


def encode_field(value: Field) -> str:
    """How TWS writes a value: booleans as 1/0, nothing as an empty field, the rest as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def frame(fields: Iterable[Field]) -> bytes:
    payload = "".join(encode_field(value) + "\0" for value in fields).encode()
    return _LENGTH.pack(len(payload)) + payload


async def read_frame(reader: asyncio.StreamReader) -> bytes:
    (length,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
    if length > _MAX_MESSAGE:
        raise ProtocolError(f"message of {length} bytes")
    return await reader.readexactly(length)


async def read_message(reader: asyncio.StreamReader) -> list[str]:
    """One framed message as its fields (the empty string after the last NUL dropped)."""
    fields = (await read_frame(reader)).decode().split("\0")
    if fields[-1] != "":
        raise ProtocolError("message does not end with a field terminator")
    return fields[:-1]


async def read_handshake(reader: asyncio.StreamReader) -> tuple[int, int]:
    """The client's supported version range from `API\\0` + framed "v<min>..<max>[ options]"."""
    if await reader.readexactly(len(HANDSHAKE)) != HANDSHAKE:
        raise ProtocolError("connection does not start with API\\0")
    text = (await read_frame(reader)).decode()
    versions = text.split(" ", 1)[0]
    if not versions.startswith("v") or ".." not in versions:
        raise ProtocolError(f"bad version range {text!r}")
    low, high = versions[1:].split("..", 1)
    return int(low), int(high)
