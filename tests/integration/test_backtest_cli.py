"""`trader backtest` end to end on a small bar file, with a SQLite ledger in a temporary dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.backtest.bars import write_bar_file
from app.cli.main import app
from tests.unit.backtest.builders import DAY_1, DAY_2, Row, bar_table
from tests.unit.backtest.html_parts import Parts


@pytest.fixture
def bar_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRADER_DATA_DIR", str(tmp_path / "var"))
    rows: list[Row] = []
    for s, symbol in enumerate(("ABC", "XYZ")):
        for day in (DAY_1, DAY_2):
            price = 10.0 + s
            for minute in range(60):
                jump = 0.03 if minute % 17 == 16 else 0.0
                close = price * (1.0005 + jump) if minute % 3 else price * 0.999
                volume = 30_000 if jump else 5_000
                rows.append(
                    (
                        symbol,
                        day,
                        minute,
                        price,
                        max(price, close) * 1.001,
                        min(price, close) * 0.999,
                        close,
                        volume,
                    )
                )
                price = close
    path = tmp_path / "bars.parquet"
    write_bar_file(path, bar_table(rows))
    return path


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["backtest", *args])
    return result.exit_code, result.output


def test_a_run_prints_json_writes_the_report_and_stores_one_run(
    bar_file: Path, tmp_path: Path
) -> None:
    report = tmp_path / "out.html"
    args = ["--bars", str(bar_file), "--strategy", "breakout", "--param", "lookback=5"]

    code, output = _run(*args, "--json", "--report", str(report))
    assert code == 0, output
    first = json.loads(output)
    assert first["period"] == {"from": "2026-03-02", "to": "2026-03-03"}
    assert first["config"]["strategies"] == ["breakout"]
    assert first["config"]["params"] == {"lookback": "5"}
    assert first["counts"]["bars"] == 240
    assert set(first["summary"]) >= {"total_return", "sharpe", "max_drawdown", "by_strategy"}
    parts = Parts(report.read_text())
    assert parts.by_id("summary-table") and parts.by_id("trade-table")

    code, output = _run(*args, "--json")
    assert code == 0, output
    assert json.loads(output)["run_id"] == first["run_id"]

    code, output = _run(*args, "--json", "--carry")
    assert code == 0, output
    assert json.loads(output)["run_id"] != first["run_id"]

    code, output = _run(*args, "--from", "2026-03-03", "--to", "2026-03-03", "--json")
    assert code == 0, output
    assert json.loads(output)["counts"]["bars"] == 120


def test_the_summary_table_for_people(bar_file: Path) -> None:
    code, output = _run("--bars", str(bar_file), "--no-save")
    assert code == 0, output
    assert "total return" in output and "max drawdown" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bars", "missing.parquet"], "no such file"),
        (["--bars", "{bars}", "--from", "2026-13-01"], "is not a date"),
        (["--bars", "{bars}", "--from", "2026-03-03", "--to", "2026-03-02"], "is after --to"),
        (["--bars", "{bars}", "--from", "2027-01-04"], "has no bars"),
        (["--bars", "{bars}", "--strategy", "nope"], "unknown strategy 'nope'"),
        (["--bars", "{bars}", "--param", "lookback"], "expected key=value"),
        (["--bars", "{bars}", "--param", "lookback=one"], "Expected `int`"),
        ([], "exactly one of --bars FILE or --store"),
        (["--store"], "--store needs --from and --to"),
    ],
)
def test_mistakes_get_clear_errors(bar_file: Path, args: list[str], message: str) -> None:
    code, output = _run(*[a.replace("{bars}", str(bar_file)) for a in args])
    assert code == 2
    assert message in " ".join(output.replace("│", " ").split())
