"""Alpaca's timestamps, read to the nanosecond."""

from __future__ import annotations

import struct

import pytest

from app.brokers.alpaca.timestamps import BadTimestamp, msgpack_timestamp_ns, rfc3339_ns

T = 1_795_185_000_000_000_000  # 2026-11-20T14:30:00Z


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T14:30:00Z", T),
        ("2026-11-20T14:30:00.123456789Z", T + 123_456_789),
        ("2026-11-20T14:30:00.5Z", T + 500_000_000),
        ("2026-11-20T09:30:00-05:00", T),
        ("2026-11-20T09:30:00.000001-05:00", T + 1_000),
        ("2026-11-20T14:30:00+00:00", T),
    ],
)
def test_rfc3339_to_nanoseconds(text: str, expected: int) -> None:
    assert rfc3339_ns(text) == expected


@pytest.mark.parametrize(
    "text", ["2026-11-20T14:30:00", "yesterday", "2026-11-20T14:30:00.1234567890Z"]
)
def test_rfc3339_without_a_zone_or_with_too_many_digits_is_refused(text: str) -> None:
    with pytest.raises(BadTimestamp):
        rfc3339_ns(text)


def test_the_three_msgpack_timestamp_forms() -> None:
    seconds, nanos = divmod(T + 123_456_789, 1_000_000_000)
    packed64 = struct.pack(">Q", (nanos << 34) | seconds)
    assert msgpack_timestamp_ns(-1, struct.pack(">I", seconds)) == seconds * 1_000_000_000
    assert msgpack_timestamp_ns(-1, packed64) == T + 123_456_789
    assert msgpack_timestamp_ns(-1, struct.pack(">Iq", nanos, seconds)) == T + 123_456_789


def test_other_extensions_and_sizes_are_refused() -> None:
    with pytest.raises(BadTimestamp):
        msgpack_timestamp_ns(5, b"\0\0\0\0")
    with pytest.raises(BadTimestamp):
        msgpack_timestamp_ns(-1, b"\0\0")
