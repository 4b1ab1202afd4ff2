from __future__ import annotations

from app.backtest.report import bars_around, charted, render
from app.backtest.runner import BacktestResult, run_bars
from app.domain.calendar import session_open_ns
from tests.unit.backtest.builders import DAY_1, DAY_2, MINUTE, Probe, Row, bar_table, core_setup
from tests.unit.backtest.html_parts import Parts

OPEN_1, OPEN_2 = session_open_ns(DAY_1), session_open_ns(DAY_2)


def _rows() -> list[Row]:
    rows: list[Row] = []
    for day in (DAY_1, DAY_2):
        for minute in range(40):
            price = 10.0 + 0.01 * minute
            rows.append(("ABC", day, minute, price, price + 0.05, price - 0.05, price, 40_000))
    return rows


def _result() -> BacktestResult:
    return run_bars(
        bar_table(_rows()),
        strategies=[Probe(OPEN_1 + 5 * MINUTE, OPEN_2 + 3 * MINUTE, name="probe")],
        setup=core_setup(),
        carry=False,
        seed=1,
    )


def test_the_report_holds_every_part_and_nothing_external() -> None:
    result = _result()
    table = bar_table(_rows())
    charts = {i: bars_around(table, result.trades[i]) for i in charted(result.trades, 1)}

    html = render(
        run_id="abc123", config={"strategies": ["probe"]}, result=result, charts=charts, chosen=1
    )
    parts = Parts(html)

    assert len(result.trades) == 2
    for section in ("config", "summary", "equity", "drawdown", "strategies", "rules", "trades"):
        assert parts.by_id(section).tag == "section"
    assert parts.within("equity", "polyline")
    assert parts.within("drawdown", "polygon")
    strategy_rows = parts.within("strategy-table", "tr")
    assert len(strategy_rows) == 2  # the header and "probe"
    trade_rows = [r for r in parts.within("trade-table", "tr") if "data-trade" in r.attrs]
    assert [r.attrs["data-trade"] for r in trade_rows] == ["1", "2"]
    assert all("charted" in r.classes for r in trade_rows)
    for n in (1, 2):
        chart = f"chart-{n}"
        candles = [g for g in parts.within(chart, "g") if "candle" in g.classes]
        assert len(candles) == 40  # each trade's day: 30 bars of context reach both ends
        markers = [m.classes for m in parts.within(chart, "polygon")]
        assert {"marker", "entry"} in markers and {"marker", "exit"} in markers
    assert "shown" in parts.by_id("chart-2").classes
    assert "shown" not in parts.by_id("chart-1").classes
    assert parts.scripts and "showTrade" in parts.scripts[0]
    assert not [e for e in parts.elements if e.tag in ("link", "img", "iframe")]
    assert not [e for e in parts.elements if e.tag == "script" and "src" in e.attrs]
    assert "http://" not in html and "https://" not in html and "url(" not in html


def test_a_trade_chart_spans_its_trade_with_context() -> None:
    result = _result()
    first = result.trades[0]

    bars = bars_around(bar_table(_rows()), first, context=2)

    assert bars[0].ts_ns == first.entry_ns - 2 * MINUTE
    assert bars[-1].ts_ns == first.exit_ns  # flattened on the day's last bar: nothing after it
    assert {b.symbol for b in bars} == {"ABC"}


def test_charts_go_to_the_first_trades_and_the_chosen_one() -> None:
    trades = _result().trades * 40
    assert charted(trades, 70) == [*range(50), 70]
    assert charted(trades, 3) == list(range(50))
