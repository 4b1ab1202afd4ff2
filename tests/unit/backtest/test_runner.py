from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest

from app.backtest.bars import BarTable
from app.backtest.runner import BacktestResult, run_bars
from app.backtest.setup import CoreSetup
from app.backtest.strategies import select_strategies
from app.domain.calendar import session_open_ns
from app.domain.signal import Side
from app.exits.config import ExitConfig, Target
from tests.unit.backtest.builders import (
    DAY_1,
    DAY_2,
    MINUTE,
    Probe,
    Row,
    bar_table,
    core_setup,
    flat_day,
)

OPEN_1 = session_open_ns(DAY_1)

# One symbol, five minutes: the probe buys at the close of minute 1 (10.00).
FIVE_MINUTES: list[Row] = [
    ("ABC", DAY_1, 0, 10.00, 10.01, 9.99, 10.00, 40_000),
    ("ABC", DAY_1, 1, 10.00, 10.01, 9.99, 10.00, 40_000),
    ("ABC", DAY_1, 2, 10.02, 10.10, 10.00, 10.05, 40_000),
    ("ABC", DAY_1, 3, 10.20, 10.30, 10.15, 10.25, 40_000),
    ("ABC", DAY_1, 4, 10.50, 10.55, 10.45, 10.52, 40_000),
]


def _probe_run(rows: list[Row], *, carry: bool, setup: CoreSetup | None = None) -> BacktestResult:
    return run_bars(
        bar_table(rows),
        strategies=[Probe(OPEN_1 + MINUTE)],
        setup=setup or core_setup(),
        carry=carry,
        seed=1,
    )


def test_one_trade_by_hand_with_slippage_and_fees() -> None:
    result = _probe_run(FIVE_MINUTES, carry=False)

    (trade,) = result.trades
    # Sized on the signal: 0.5% of 100,000 at risk over a 0.50 stop distance = 1,000 shares
    # (and 10,000 / 10.00 by value). The marketable limit is 10.00 + 50 bps = 10.05.
    # Entry at minute 2's open print 10.02, plus 10 bps slippage = 10.03002, rounded up to the
    # cent against the buyer: 10.04 (under the 10.05 limit). Fee 0.005 * 1,000 = 5.00.
    assert trade.entry_ns == OPEN_1 + 2 * MINUTE
    assert (trade.qty, trade.entry_price) == (Decimal(1000), Decimal("10.04"))
    # Not carried: the exit goes out at the start of the day's last bar and fills at its open
    # 10.50 less 10 bps = 10.4895, rounded down against the seller: 10.48. Fee 5.00.
    assert trade.exit_ns == OPEN_1 + 4 * MINUTE
    assert trade.exit_price == Decimal("10.48")
    assert trade.exit_reason == "flatten"
    assert trade.fees == Decimal("10.00")
    # (10.48 - 10.04) * 1,000 - 5.00 - 5.00
    assert trade.pnl == Decimal("430.00")
    assert trade.side is Side.BUY and trade.rule == "probe"
    assert result.summary.end_equity == pytest.approx(100_430.0)
    assert result.summary.total_return == pytest.approx(0.0043)
    assert result.open_lots == []


def test_carry_keeps_the_position_overnight_and_flatten_does_not() -> None:
    rows = FIVE_MINUTES + flat_day("ABC", DAY_2, minutes=5, price=10.60)

    flat = _probe_run(rows, carry=False)
    carried = _probe_run(rows, carry=True)

    assert [t.exit_reason for t in flat.trades] == ["flatten"]
    assert flat.open_lots == []
    assert carried.trades == []
    (lot,) = carried.open_lots
    assert (lot.symbol, lot.qty_open, lot.avg_price) == ("ABC", Decimal(1000), Decimal("10.04"))
    # marked to the last close: 100,000 - 5.00 entry fee + (10.60 - 10.04) * 1,000
    assert carried.summary.end_equity == pytest.approx(100_555.0)
    assert carried.summary.exposure > flat.summary.exposure


def test_an_order_fills_at_the_next_bar_open_never_on_the_bar_that_signalled_it() -> None:
    result = _probe_run(FIVE_MINUTES, carry=False, setup=core_setup(slippage_bps="0"))

    (trade,) = result.trades
    assert trade.entry_price == Decimal("10.02")  # minute 2's open, not minute 1's close
    assert trade.exit_price == Decimal("10.50")  # minute 4's open


def test_participation_and_the_ttl_cut_a_large_order_short() -> None:
    thin = [(s, d, m, o, h, lo, c, 2_000) for (s, d, m, o, h, lo, c, _) in FIVE_MINUTES]
    result = _probe_run(thin, carry=False, setup=core_setup(participation="0.25"))

    (trade,) = result.trades
    # Each print offers 25% of its 500 shares: 125. The entry (limit 10.05) takes 125 at the
    # open (10.02 + 10 bps -> 10.04), then, resting, 125 at its limit on the low print (10.00);
    # the high print (10.10) is above the limit, and before the close print the entry is past
    # its 30 s TTL and cancelled: 250 shares at an average of 10.045.
    assert (trade.qty, trade.entry_price) == (Decimal(250), Decimal("10.045"))
    # The exit sells 125 at the last bar's open (10.50 - 10 bps -> 10.48) and 125 on its next
    # print, the low (the bar closed up): 10.45 - 10 bps = 10.43955 -> 10.43.
    assert trade.exit_price == Decimal("10.455")
    # Four fills of 125 shares, each 0.625 in fees, rounded half-even to 0.62.
    assert trade.fees == Decimal("2.48")
    # (10.48 - 10.045) * 125 + (10.43 - 10.045) * 125 - 2.48
    assert trade.pnl == Decimal("100.02")
    assert result.counts.fills == 4


def _random_table(seed: int) -> BarTable:
    rng = np.random.default_rng(seed)
    rows: list[Row] = []
    for s in range(6):
        price = 10.0 + s
        for day in (DAY_1, DAY_2):
            for minute in range(120):
                step = rng.normal(0, 0.003) + (0.02 if rng.random() < 0.03 else 0.0)
                close = price * (1 + step)
                high = max(price, close) * (1 + rng.uniform(0, 0.002))
                low = min(price, close) * (1 - rng.uniform(0, 0.002))
                volume = int(rng.integers(2_000, 9_000) * (4 if step > 0.01 else 1))
                rows.append((f"S{s}", day, minute, price, high, low, close, volume))
                price = close
    return bar_table(rows)


def test_the_same_inputs_and_seed_give_the_same_run() -> None:
    table = _random_table(3)

    def once() -> BacktestResult:
        return run_bars(
            table,
            strategies=select_strategies([], {}),
            setup=core_setup(participation="0.25"),
            carry=False,
            seed=11,
        )

    first, second = once(), once()
    assert first.counts.orders > 0
    assert first.trades == second.trades
    assert first.curve == second.curve
    assert first.counts == second.counts
    assert first.summary == second.summary


def test_progress_reports_every_bar_replayed() -> None:
    table = _random_table(4)
    seen: list[tuple[int, int]] = []

    run_bars(
        table,
        strategies=[Probe()],
        setup=core_setup(),
        carry=False,
        seed=1,
        progress=lambda done, total: seen.append((done, total)),
    )

    assert seen[-1] == (len(table), len(table))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert len(seen) == len(np.unique(table.ts))


class _BracketProbe(Probe):
    exit = ExitConfig(
        stop_pct=5.0,
        targets=(Target(50.0, 1.0),),
        max_hold_s=7 * 86_400,
        flatten_before_close_s=None,
        bracket=True,
    )


def _bracket_run(rows: list[Row], probe: Probe) -> BacktestResult:
    return run_bars(bar_table(rows), strategies=[probe], setup=core_setup(), carry=False, seed=1)


def test_a_position_the_venues_legs_guard_is_still_flattened_at_the_end() -> None:
    result = _bracket_run(FIVE_MINUTES, _BracketProbe(OPEN_1 + MINUTE))
    (trade,) = result.trades
    assert trade.exit_reason == "flatten" and trade.exit_ns == OPEN_1 + 4 * MINUTE
    assert result.open_lots == []


def test_the_take_profit_leg_closes_a_position_at_the_venue() -> None:
    probe = _BracketProbe(OPEN_1 + MINUTE)
    probe.exit = replace(_BracketProbe.exit, targets=(Target(2.0, 1.0),))
    (trade,) = _bracket_run(FIVE_MINUTES, probe).trades
    # the leg rests at 10.20 (2% over the 10.00 decision price) and fills in minute 3
    assert trade.exit_reason == "target" and trade.exit_ns == OPEN_1 + 3 * MINUTE
    assert trade.exit_price >= Decimal("10.20")
