import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from app.bus.partition import JumpHashPartitioner, SymbolRangePartitioner
from app.bus.topics import shard_of
from app.settings import PartitionKind, Settings

symbols = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=5)


def test_ranges_own_contiguous_alphabetical_slices() -> None:
    ranges = SymbolRangePartitioner(["F", "M", "T"])
    assert ranges.shard_count == 4
    assert [ranges.shard_of(s) for s in ("AAPL", "F", "GME", "MSFT", "TSLA", "ZZ")] == [
        0, 1, 1, 2, 3, 3,
    ]  # fmt: skip
    assert ranges.shard_of("gme") == ranges.shard_of("GME")


@given(symbols)
def test_every_symbol_has_exactly_one_owner(symbol: str) -> None:
    ranges = SymbolRangePartitioner(["F", "M", "T"])
    assert 0 <= ranges.shard_of(symbol) < ranges.shard_count
    assert JumpHashPartitioner(4).shard_of(symbol) == shard_of(symbol, 4)


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="sorted"):
        SymbolRangePartitioner(["M", "F"])
    with pytest.raises(ValidationError, match="needs shard_count - 1"):
        Settings(shard_count=4, partition=PartitionKind.RANGE, partition_bounds=("F", "M"))
