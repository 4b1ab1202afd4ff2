"""InfluxDB line protocol as QuestDB reads it: text (protocol 1) and binary doubles (protocol 2).

A line is `table[,tag=value...] field=value[,field=value...] [timestamp]\\n`. Names and tag values
escape `\\`, space, comma and equals with a backslash. Field values are `123i` (long), `1.5` or
`==` + type byte 16 + 8 little-endian bytes (double, protocol 2), `t`/`f`/`true`/`false`,
`"quoted"` strings, `123t` / `123n` timestamps (micro / nanoseconds). The designated timestamp is
nanoseconds, optionally suffixed `n` (nanos) or `t` (micros).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

_DOUBLE_TYPE = 16
_BINARY_MARK = b"="


class IlpError(ValueError):
    """A line the server cannot parse; `line` counts from 1 like QuestDB's error responses."""

    def __init__(self, message: str, *, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True, slots=True)
class IlpTimestamp:
    value: int
    unit: str  # "n" or "t"

    @property
    def micros(self) -> int:
        return self.value // 1000 if self.unit == "n" else self.value


IlpValue = bool | int | float | str | IlpTimestamp


@dataclass(frozen=True, slots=True)
class IlpLine:
    table: str
    symbols: dict[str, str] = field(default_factory=dict)
    fields: dict[str, IlpValue] = field(default_factory=dict)
    timestamp: IlpTimestamp | None = None


def parse_ilp(body: bytes) -> list[IlpLine]:
    """Every line of a request body, or IlpError naming the first bad one."""
    reader = _Reader(body)
    lines: list[IlpLine] = []
    number = 0
    while not reader.at_end():
        number += 1
        if reader.peek() == b"\n":
            reader.pos += 1
            continue
        try:
            lines.append(reader.line())
        except (IndexError, ValueError, struct.error) as exc:
            raise IlpError(f"cannot parse line {number}: {exc}", line=number) from exc
    return lines


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.data)

    def peek(self) -> bytes:
        return self.data[self.pos : self.pos + 1]

    def expect(self, char: bytes) -> None:
        if self.peek() != char:
            raise ValueError(f"expected {char!r} at byte {self.pos}, found {self.peek()!r}")
        self.pos += 1

    def name(self, stops: bytes) -> str:
        """Read up to an unescaped stop byte (or the end), unescaping backslash pairs."""
        out = bytearray()
        while not self.at_end():
            byte = self.data[self.pos]
            if byte == 0x5C:  # backslash
                out.append(self.data[self.pos + 1])
                self.pos += 2
                continue
            if byte in stops:
                break
            out.append(byte)
            self.pos += 1
        if not out:
            raise ValueError(f"empty name or value at byte {self.pos}")
        return out.decode()

    def line(self) -> IlpLine:
        table = self.name(b", \n")
        symbols: dict[str, str] = {}
        while self.peek() == b",":
            self.pos += 1
            key = self.name(b"=")
            self.expect(b"=")
            symbols[key] = self.name(b", \n")
        self.expect(b" ")
        fields: dict[str, IlpValue] = {}
        while True:
            key = self.name(b"=")
            self.expect(b"=")
            fields[key] = self.value()
            if self.peek() != b",":
                break
            self.pos += 1
        timestamp = None
        if self.peek() == b" ":
            self.pos += 1
            timestamp = _designated(self.name(b"\n"))
        if not self.at_end():
            self.expect(b"\n")
        return IlpLine(table=table, symbols=symbols, fields=fields, timestamp=timestamp)

    def value(self) -> IlpValue:
        if self.peek() == _BINARY_MARK:  # the second `=` of `name==`: a binary value follows
            kind = self.data[self.pos + 1]
            if kind != _DOUBLE_TYPE:
                raise ValueError(f"unsupported binary type {kind}")
            (number,) = struct.unpack_from("<d", self.data, self.pos + 2)
            self.pos += 2 + 8
            return float(number)
        if self.peek() == b'"':
            return self.quoted()
        return _scalar(self.name(b", \n"))

    def quoted(self) -> str:
        self.pos += 1
        out = bytearray()
        while self.data[self.pos] != 0x22:  # closing quote
            if self.data[self.pos] == 0x5C:
                self.pos += 1
            out.append(self.data[self.pos])
            self.pos += 1
        self.pos += 1
        return out.decode()


def _scalar(token: str) -> IlpValue:
    if token in ("t", "T", "true", "True", "TRUE"):
        return True
    if token in ("f", "F", "false", "False", "FALSE"):
        return False
    if token.endswith("i"):
        return int(token[:-1])
    if token.endswith(("t", "n")) and token[:-1].lstrip("-").isdigit():
        return IlpTimestamp(int(token[:-1]), token[-1])
    return float(token)


def _designated(token: str) -> IlpTimestamp:
    if token.endswith(("n", "t")):
        return IlpTimestamp(int(token[:-1]), token[-1])
    return IlpTimestamp(int(token), "n")
