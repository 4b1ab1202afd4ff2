"""Metrics against values worked out by hand on a tiny curve and five trades."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest

from app.backtest.metrics import EquityPoint, max_drawdown, quantile, summarize
from app.domain.calendar import local_time_ns
from app.domain.signal import Side
from app.persistence.backtests import BacktestTrade

DAY_1, DAY_2, DAY_3 = dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 3, 4)
HOUR = 3_600

# Day closes 101, 103.02, 100.9596: daily returns of exactly +1%, +2%, -2%.
CURVE = [
    EquityPoint(local_time_ns(DAY_1, 10), 100.0, 0, 0.0),
    EquityPoint(local_time_ns(DAY_1, 11), 102.0, 1, 50.0),
    EquityPoint(local_time_ns(DAY_1, 16), 101.0, 1, 50.0),
    EquityPoint(local_time_ns(DAY_2, 10), 99.0, 2, 80.0),
    EquityPoint(local_time_ns(DAY_2, 16), 103.02, 0, 0.0),
    EquityPoint(local_time_ns(DAY_3, 16), 100.9596, 1, 40.0),
]


def _trade(pnl: int, *, strategy: str, rule: str, minutes: int) -> BacktestTrade:
    entry = local_time_ns(DAY_1, 10)
    return BacktestTrade(
        strategy=strategy,
        rule=rule,
        symbol="ABC",
        side=Side.BUY,
        entry_ns=entry,
        exit_ns=entry + minutes * 60_000_000_000,
        entry_price=Decimal("10"),
        exit_price=Decimal("10"),
        qty=Decimal(100),
        fees=Decimal(0),
        pnl=Decimal(pnl),
        exit_reason="stop",
    )


TRADES = [
    _trade(30, strategy="a", rule="r1", minutes=1),
    _trade(-10, strategy="a", rule="r2", minutes=2),
    _trade(20, strategy="a", rule="r2", minutes=3),
    _trade(-40, strategy="b", rule="r1", minutes=4),
    _trade(5, strategy="b", rule="r2", minutes=5),
]


def test_returns_and_risk_adjusted_ratios() -> None:
    s = summarize(start_equity=100.0, curve=CURVE, trades=TRADES)

    assert s.days == 3
    assert s.end_equity == pytest.approx(100.9596)
    assert s.total_return == pytest.approx(0.009596)
    assert s.annualized_return == pytest.approx(1.009596 ** (252 / 3) - 1)
    # returns 0.01, 0.02, -0.02: mean 0.01/3, deviations 0.02/3, 0.05/3, -0.07/3
    stdev = math.sqrt(((0.02 / 3) ** 2 + (0.05 / 3) ** 2 + (0.07 / 3) ** 2) / 2)
    assert s.sharpe == pytest.approx((0.01 / 3) / stdev * math.sqrt(252))
    # downside deviation: only -0.02 counts, over all three days
    assert s.sortino == pytest.approx((0.01 / 3) / math.sqrt(0.02**2 / 3) * math.sqrt(252))


def test_drawdown_and_its_duration() -> None:
    s = summarize(start_equity=100.0, curve=CURVE, trades=TRADES)

    # from the 102 peak down to 99; the later fall from 103.02 to 100.9596 is only 2%
    assert s.max_drawdown == pytest.approx(3 / 102)
    # under the 102 peak from day 1 11:00 until 103.02 on day 2 16:00: 29 hours
    assert s.max_drawdown_duration_s == pytest.approx(29 * HOUR)


def test_an_unrecovered_drawdown_lasts_until_the_last_sample() -> None:
    curve = [CURVE[0], CURVE[1], CURVE[2]]
    assert max_drawdown(curve) == pytest.approx((1 / 102, 5 * HOUR * 1_000_000_000))


def test_time_in_market() -> None:
    s = summarize(start_equity=100.0, curve=CURVE, trades=TRADES)

    assert s.exposure == pytest.approx(4 / 6)
    assert (s.max_concurrent, s.avg_concurrent) == pytest.approx((2, 5 / 6))
    utilization = (0 + 50 / 102 + 50 / 101 + 80 / 99 + 0 + 40 / 100.9596) / 6
    assert s.capital_utilization == pytest.approx(utilization)


def test_trade_statistics() -> None:
    s = summarize(start_equity=100.0, curve=CURVE, trades=TRADES)

    t = s.totals
    assert (t.trades, t.wins, t.win_rate) == pytest.approx((5, 3, 0.6))
    assert t.pnl == pytest.approx(5.0)
    assert t.profit_factor == pytest.approx(55 / 50)
    assert t.expectancy == pytest.approx(1.0)
    assert t.avg_hold_s == pytest.approx(180.0)
    # sorted P&L -40, -10, 5, 20, 30: the 1% quantile sits 0.04 of the way from -40 to -10
    assert s.worst_trade_p01 == pytest.approx(-40 + 0.04 * 30)
    assert s.worst_trade_p05 == pytest.approx(-40 + 0.2 * 30)


def test_breakdowns_per_strategy_and_per_rule() -> None:
    s = summarize(start_equity=100.0, curve=CURVE, trades=TRADES)

    a, b = s.by_strategy["a"], s.by_strategy["b"]
    assert (a.trades, a.wins, a.pnl, a.profit_factor) == pytest.approx((3, 2, 40.0, 5.0))
    assert a.expectancy == pytest.approx(40 / 3)
    assert (b.trades, b.wins, b.pnl, b.profit_factor) == pytest.approx((2, 1, -35.0, 5 / 40))
    r1, r2 = s.by_rule["r1"], s.by_rule["r2"]
    assert (r1.trades, r1.pnl, r1.win_rate) == pytest.approx((2, -10.0, 0.5))
    assert (r2.trades, r2.pnl, r2.win_rate) == pytest.approx((3, 15.0, 2 / 3))
    assert r2.avg_hold_s == pytest.approx((120 + 180 + 300) / 3)


def test_what_cannot_be_computed_is_none() -> None:
    one_day = [CURVE[0]]
    s = summarize(start_equity=100.0, curve=one_day, trades=[])

    assert (s.sharpe, s.sortino, s.worst_trade_p01) == (None, None, None)
    assert (s.totals.win_rate, s.totals.profit_factor, s.totals.expectancy) == (None, None, None)
    assert s.total_return == 0.0
    assert quantile([7.0], 0.05) == 7.0
