import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

from app.bus.topics import jump_hash, shard_of, stable_hash

symbols = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ.", min_size=1, max_size=8)


@given(symbols, st.integers(min_value=1, max_value=64))
def test_shard_in_range(symbol: str, shards: int) -> None:
    assert 0 <= shard_of(symbol, shards) < shards


@given(st.integers(min_value=0, max_value=2**64 - 1), st.integers(min_value=1, max_value=63))
def test_growing_moves_keys_only_to_the_new_bucket(key: int, buckets: int) -> None:
    before, after = jump_hash(key, buckets), jump_hash(key, buckets + 1)
    assert after in (before, buckets)


def test_hash_is_stable_across_processes() -> None:
    code = "from app.bus.topics import stable_hash; print(stable_hash('ABCD'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) == stable_hash("ABCD")


def test_spread_is_balanced() -> None:
    counts = [0] * 4
    for i in range(4000):
        counts[shard_of(f"S{i}", 4)] += 1
    assert min(counts) > 850
