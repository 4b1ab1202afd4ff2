from decimal import Decimal

import msgspec
import pytest

from app.bus.codec import SchemaMismatch, decode, encode
from app.domain.market import Tick, TickBatch
from app.domain.signal import Side, Signal, SignalKind


def test_round_trip_keeps_decimal_exact() -> None:
    signal = Signal("s", "ABC", Side.SELL, SignalKind.EXIT, 5, 1.25, "k", qty=Decimal("0.1"))
    assert decode(encode(signal), Signal) == signal


def test_batches_round_trip() -> None:
    batch = TickBatch(ticks=[Tick("ABC", 1, 2.5, 100, 1), Tick("XYZ", 2, 3.5, 200, 1)])
    assert decode(encode(batch), TickBatch) == batch


def test_other_schema_versions_are_refused() -> None:
    foreign = msgspec.msgpack.encode([99, b""])
    with pytest.raises((SchemaMismatch, msgspec.ValidationError)):
        decode(foreign, TickBatch)


def test_wrong_type_is_a_validation_error() -> None:
    with pytest.raises(msgspec.ValidationError):
        decode(encode(Tick("ABC", 1, 2.5, 100)), Signal)
