from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.backtest.bars import BarFileError, read_bar_file, write_bar_file
from tests.unit.backtest.builders import DAY_1, DAY_2, bar_table, flat_day

OPEN_1 = 1_772_461_800_000_000_000  # 2026-03-02 09:30 New York


def _write(path: Path, **columns: object) -> Path:
    base: dict[str, object] = {
        "symbol": ["ABC", "XYZ"],
        "ts": [OPEN_1, OPEN_1],
        "open": [10.0, 5.0],
        "high": [10.5, 5.5],
        "low": [9.5, 4.5],
        "close": [10.0, 5.0],
        "volume": [100, 200],
    }
    base.update(columns)
    pq.write_table(pa.table(base), path)
    return path


def test_a_written_table_reads_back_in_replay_order(tmp_path: Path) -> None:
    table = bar_table(flat_day("XYZ", DAY_2, minutes=2) + flat_day("ABC", DAY_1, minutes=3))
    write_bar_file(tmp_path / "bars.parquet", table)

    back = read_bar_file(tmp_path / "bars.parquet", interval_s=60)

    assert back.names == ("ABC", "XYZ")
    assert np.array_equal(back.ts, table.ts) and np.array_equal(back.close, table.close)
    assert len(back.between(DAY_2, None)) == 2
    assert len(back.between(None, DAY_1)) == 3
    steps = list(back.steps())
    assert [len(bars) for _, bars in steps] == [1, 1, 1, 1, 1]


def test_timestamps_may_be_a_timestamp_column(tmp_path: Path) -> None:
    ts = pa.array([OPEN_1, OPEN_1], pa.timestamp("ns", tz="UTC"))
    table = read_bar_file(_write(tmp_path / "b.parquet", ts=ts), interval_s=60)
    assert table.ts.tolist() == [OPEN_1, OPEN_1]


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"close": [10.0, float("nan")]}, "close must be finite and positive"),
        ({"low": [10.2, 4.5]}, "do not bracket"),
        ({"volume": [-1, 200]}, "volume must not be negative"),
        ({"ts": [OPEN_1 + 7, OPEN_1]}, "does not start on the 60s grid"),
        ({"symbol": ["ABC", "ABC"]}, "has two bars starting at"),
        ({"ts": ["a", "b"]}, "ts must be int ns or a timestamp"),
        ({"open": ["x", "y"]}, "open is not numeric"),
        ({"close": [10.0, None]}, "close has nulls"),
    ],
)
def test_bad_bars_are_refused_with_the_reason(
    tmp_path: Path, columns: dict[str, object], message: str
) -> None:
    with pytest.raises(BarFileError, match=message):
        read_bar_file(_write(tmp_path / "b.parquet", **columns), interval_s=60)


def test_a_missing_or_unreadable_file_or_column(tmp_path: Path) -> None:
    with pytest.raises(BarFileError, match="no such file"):
        read_bar_file(tmp_path / "none.parquet", interval_s=60)
    (tmp_path / "text.parquet").write_text("not parquet")
    with pytest.raises(BarFileError, match="cannot read"):
        read_bar_file(tmp_path / "text.parquet", interval_s=60)
    pq.write_table(pa.table({"symbol": ["ABC"]}), tmp_path / "thin.parquet")
    with pytest.raises(BarFileError, match="lacks column"):
        read_bar_file(tmp_path / "thin.parquet", interval_s=60)
