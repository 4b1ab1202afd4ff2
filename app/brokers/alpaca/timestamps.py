"""Alpaca's two timestamp encodings, read to the nanosecond.

REST and trade_updates carry RFC 3339 strings with up to nine fractional digits
("2026-11-20T14:30:00.123456789Z"); the market-data stream carries the MessagePack timestamp
extension (type -1). Python's datetime stops at microseconds, so both are parsed by hand.
"""

from __future__ import annotations

import datetime as dt
import struct

_NS_PER_S = 1_000_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_TIMESTAMP_EXT = -1
_LOW_34_BITS = (1 << 34) - 1


class BadTimestamp(ValueError):
    """A timestamp that is not in the format the venue documents."""


def rfc3339_ns(text: str) -> int:
    """Nanoseconds since the epoch of an RFC 3339 timestamp with a zone ('Z' or +hh:mm)."""
    head, dot, rest = text.partition(".")
    fraction = ""
    zone = ""
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        fraction, zone = rest[:digits], rest[digits:]
    else:
        for marker in ("Z", "z", "+", "-"):
            position = head.find(marker, 10)
            if position != -1:
                head, zone = head[:position], head[position:]
                break
    if not zone or len(fraction) > 9:
        raise BadTimestamp(f"not an RFC 3339 timestamp with a zone: {text!r}")
    try:
        whole = dt.datetime.fromisoformat(head + ("+00:00" if zone in ("Z", "z") else zone))
    except ValueError as exc:
        raise BadTimestamp(f"not an RFC 3339 timestamp: {text!r}") from exc
    seconds = (whole - _EPOCH) // dt.timedelta(seconds=1)
    return seconds * _NS_PER_S + int(fraction.ljust(9, "0") or "0")


def msgpack_timestamp_ns(code: int, data: bytes) -> int:
    """Nanoseconds since the epoch of a MessagePack timestamp extension (32, 64 or 96 bit)."""
    if code != _TIMESTAMP_EXT:
        raise BadTimestamp(f"not a timestamp extension: type {code}")
    match len(data):
        case 4:
            (seconds,) = struct.unpack(">I", data)
            return int(seconds) * _NS_PER_S
        case 8:
            (packed,) = struct.unpack(">Q", data)
            return int(packed & _LOW_34_BITS) * _NS_PER_S + int(packed >> 34)
        case 12:
            nanos, seconds = struct.unpack(">Iq", data)
            return int(seconds) * _NS_PER_S + int(nanos)
        case size:
            raise BadTimestamp(f"a timestamp extension has 4, 8 or 12 bytes, not {size}")
