"""`trader indicators` round trip: parquet in, bars plus one column per indicator output out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from app.cli.indicators import indicators
from app.indicators import MACD, RSI, VWAP, BarArrays, compute_batch
from tests.unit.indicators.builders import ny_ns, random_bars

COLUMNS = ["symbol", "ts", "open", "high", "low", "close", "volume"]


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(indicators)

    @app.callback()
    def main() -> None:
        """trader"""

    return app


def _bars_file(path: Path, *, timestamps: bool = False, drop: str | None = None) -> pa.Table:
    one = random_bars(51, n=150, start_ns=ny_ns(2024, 3, 7, 9, 0))
    two = random_bars(52, n=150, tick=0.0001, level=0.8, start_ns=ny_ns(2024, 3, 7, 9, 0))
    rows = [b for pair in zip(one, two, strict=True) for b in pair]  # symbols interleaved
    ts = pa.array([b.ts_ns for b in rows], type=pa.int64())
    table = pa.table(
        {
            "symbol": ["AAA" if i % 2 == 0 else "BBB" for i in range(len(rows))],
            "ts": ts.cast(pa.timestamp("ns", tz="UTC")) if timestamps else ts,
            "open": [b.open for b in rows],
            "high": [b.high for b in rows],
            "low": [b.low for b in rows],
            "close": [b.close for b in rows],
            "volume": [b.volume for b in rows],
        }
    )
    if drop is not None:
        table = table.drop_columns([drop])
    pq.write_table(table, path)
    return table


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(_app(), ["indicators", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("timestamps", [False, True])
def test_round_trip_in_both_modes(tmp_path: Path, timestamps: bool) -> None:
    source = _bars_file(tmp_path / "bars.parquet", timestamps=timestamps)
    outputs = {}
    for mode in ("batch", "incremental"):
        target = tmp_path / f"{mode}.parquet"
        code, text = _run(
            "--bars", str(tmp_path / "bars.parquet"),
            "--indicator", "rsi:14",
            "--indicator", "macd:12,26,9",
            "-i", "vwap",
            "-i", "rsi:14",
            "--mode", mode,
            "--out", str(target),
        )  # fmt: skip
        assert code == 0, text
        assert "wrote 300 bars with 5 indicator columns" in text
        outputs[mode] = pq.read_table(target)
    batch, live = outputs["batch"], outputs["incremental"]
    expected_columns = [
        *COLUMNS, "rsi_14", "macd_12_26_9_line", "macd_12_26_9_signal", "macd_12_26_9_hist", "vwap",
    ]  # fmt: skip
    assert batch.column_names == expected_columns
    assert batch.select(COLUMNS).equals(source)  # bar columns untouched, input row order kept
    for name in expected_columns[7:]:
        np.testing.assert_allclose(
            live.column(name).to_numpy(), batch.column(name).to_numpy(), rtol=1e-9, equal_nan=True
        )
    rows = [i for i, s in enumerate(batch.column("symbol").to_pylist()) if s == "BBB"]
    arrays = BarArrays(
        ts=np.array(source.column("ts").cast(pa.int64()).to_numpy())[rows],
        **{f: source.column(f).to_numpy()[rows].astype(float) for f in COLUMNS[2:]},
    )
    for ref, name in (
        (RSI(14), "rsi_14"),
        (MACD(12, 26, 9).signal, "macd_12_26_9_signal"),
        (VWAP(), "vwap"),
    ):
        got = batch.column(name).to_numpy()[rows]
        np.testing.assert_array_equal(got, compute_batch(ref, arrays))
    assert np.isnan(batch.column("rsi_14").to_numpy()[rows][:14]).all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--indicator", "nope:3"], "unknown indicator 'nope'"),
        (["--indicator", "rsi:0"], "period must be an integer >= 1"),
        (["--indicator", "bbands:20,x"], "cannot parse"),
        ([], "give at least one indicator"),
        (["--indicator", "rsi:14", "--mode", "sideways"], "sideways"),
    ],
)
def test_bad_indicators_are_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    _bars_file(tmp_path / "bars.parquet")
    code, text = _run(
        "--bars", str(tmp_path / "bars.parquet"), "--out", str(tmp_path / "o.parquet"), *args
    )
    assert code == 2
    assert message in " ".join(text.split())
    assert not (tmp_path / "o.parquet").exists()


def test_missing_file_and_missing_columns_are_usage_errors(tmp_path: Path) -> None:
    code, text = _run(
        "--bars", str(tmp_path / "none.parquet"), "--out", str(tmp_path / "o.parquet"), "-i", "rsi"
    )
    assert code == 2 and "no such file" in text
    _bars_file(tmp_path / "bars.parquet", drop="volume")
    code, text = _run(
        "--bars", str(tmp_path / "bars.parquet"), "--out", str(tmp_path / "o.parquet"), "-i", "rsi"
    )
    assert code == 2 and "lacks column(s) volume" in " ".join(text.split())
    (tmp_path / "junk.parquet").write_text("not parquet")
    code, text = _run(
        "--bars", str(tmp_path / "junk.parquet"), "--out", str(tmp_path / "o.parquet"), "-i", "rsi"
    )
    assert code == 2 and "cannot read" in " ".join(text.split())
