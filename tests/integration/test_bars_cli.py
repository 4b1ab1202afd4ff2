"""`trader bars` against the fake Alpaca: split-adjusted bars of every trading day in the range
written as a bar file the backtest reads; bad input refused before anything is asked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.backtest.bars import read_bar_file
from app.cli.bars import EXIT_BAD_INPUT, fetch_to_file, trading_days
from app.cli.main import app
from app.clocks.live import LiveClock
from app.domain.calendar import session_open_ns
from app.settings import Settings
from tests.fakes.alpaca.bars import StoredBar
from tests.fakes.alpaca.venue import FakeAlpaca

FRIDAY, MONDAY = dt.date(2026, 11, 20), dt.date(2026, 11, 23)
MINUTE = 60 * 1_000_000_000


def _bars(day: dt.date, closes: list[float]) -> list[StoredBar]:
    start = session_open_ns(day)
    return [
        StoredBar(start + i * MINUTE, c, c + 1, c - 1, c, volume=100) for i, c in enumerate(closes)
    ]


def test_a_range_covers_its_trading_days_only() -> None:
    assert trading_days(FRIDAY, MONDAY) == [FRIDAY, MONDAY]
    assert trading_days(dt.date(2026, 11, 21), dt.date(2026, 11, 22)) == []


async def test_bars_of_every_day_are_written_split_adjusted(tmp_path: Path) -> None:
    async with FakeAlpaca(clock=LiveClock()) as venue:
        venue.bars.add("ABC", [*_bars(FRIDAY, [400.0, 404.0]), *_bars(MONDAY, [101.0])])
        venue.bars.split("ABC", effective_ns=session_open_ns(MONDAY), ratio=4.0)
        venue.bars.add("XYZ", _bars(MONDAY, [20.0]))
        config = venue.config()
        settings = Settings.model_validate(
            {
                "alpaca": {
                    "key_id": venue.key_id,
                    "secret_key": venue.secret_key,
                    "base_url": config.base_url,
                    "data_url": config.data_url,
                }
            }
        )
        out = tmp_path / "bars.parquet"
        count = await fetch_to_file(
            settings,
            symbols=["ABC", "XYZ"],
            days=trading_days(FRIDAY, MONDAY),
            interval_s=60,
            out=out,
        )
    table = read_bar_file(out, interval_s=60)
    assert count == len(table) == 4
    rows = sorted(
        (table.names[code], int(ts), float(close))
        for code, ts, close in zip(table.code, table.ts, table.close, strict=True)
    )
    friday, monday = session_open_ns(FRIDAY), session_open_ns(MONDAY)
    assert rows == [
        ("ABC", friday, 100.0),
        ("ABC", friday + MINUTE, 101.0),
        ("ABC", monday, 101.0),
        ("XYZ", monday, 20.0),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--symbols", "ABC", "--from", "2026-13-01", "--to", "2026-11-20"], "YYYY-MM-DD"),
        (["--symbols", ",", "--from", "2026-11-20", "--to", "2026-11-20"], "at least one"),
        (["--symbols", "ABC", "--from", "2026-11-21", "--to", "2026-11-22"], "trading day"),
    ],
)
def test_bad_input_is_refused_with_a_reason(args: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bars", *args, "--out", str(tmp_path / "b.parquet")])
    assert result.exit_code == EXIT_BAD_INPUT
    assert message in result.output


def test_missing_keys_are_refused_with_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRADER_ALPACA__KEY_ID", raising=False)
    args = ["bars", "--symbols", "ABC", "--from", "2026-11-20", "--to", "2026-11-20"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "b.parquet")])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "TRADER_ALPACA__KEY_ID" in result.output
    assert not (tmp_path / "b.parquet").exists()
