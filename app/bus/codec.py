"""Bus message encoding: msgpack via msgspec, with a schema version; Decimal travels as a string."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

SCHEMA_VERSION = 1

T = TypeVar("T")


class SchemaMismatch(ValueError):
    """A message was written by an incompatible version of the platform."""


class _Envelope(msgspec.Struct, array_like=True):
    v: int
    body: msgspec.Raw


_encoder = msgspec.msgpack.Encoder(decimal_format="string")
_envelope_decoder = msgspec.msgpack.Decoder(_Envelope)


def encode(message: Any) -> bytes:
    return _encoder.encode(_Envelope(v=SCHEMA_VERSION, body=msgspec.Raw(_encoder.encode(message))))


_decoders: dict[type[Any], msgspec.msgpack.Decoder[Any]] = {}


def _decoder(kind: type[Any]) -> msgspec.msgpack.Decoder[Any]:
    found = _decoders.get(kind)
    if found is None:
        found = _decoders[kind] = msgspec.msgpack.Decoder(kind)
    return found


def decode(payload: bytes, kind: type[T]) -> T:
    """Decode a message of the expected type; raises SchemaMismatch or msgspec.ValidationError."""
    envelope = _envelope_decoder.decode(payload)
    if envelope.v != SCHEMA_VERSION:
        raise SchemaMismatch(f"schema v{envelope.v}, this build reads v{SCHEMA_VERSION}")
    result: T = _decoder(kind).decode(envelope.body)
    return result
