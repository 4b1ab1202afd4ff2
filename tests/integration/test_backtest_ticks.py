"""Recorded ticks from the Parquet tick store through the core, as the monolith sees them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from app.backtest.runner import BacktestResult, run_ticks
from app.domain.calendar import session_close_ns, session_open_ns
from app.domain.market import Tick
from app.tickstore.parquet import ParquetTickStore
from tests.unit.backtest.builders import DAY_1, MINUTE, Probe, core_setup

OPEN = session_open_ns(DAY_1)
CLOSE = session_close_ns(DAY_1)
SECOND = 1_000_000_000


def _price(ts_ns: int) -> float:
    """10.00 plus a cent per minute of the open, repeating every five minutes."""
    return round(10.0 + 0.01 * (((ts_ns - OPEN) // MINUTE) % 5), 2)


@pytest.fixture
async def store(tmp_path: Path) -> ParquetTickStore:
    ticks = ParquetTickStore(tmp_path / "ticks")
    tape = [
        Tick("ABC", ts, _price(ts), 1_000, seq)
        for seq, ts in enumerate(range(OPEN, CLOSE, 10 * SECOND))
    ]
    await ticks.write(tape)
    await ticks.flush()
    return ticks


async def _run(store: ParquetTickStore, *, carry: bool) -> BacktestResult:
    return await run_ticks(
        store,
        days=[DAY_1],
        strategies=[Probe(OPEN + MINUTE)],
        setup=core_setup(slippage_bps="0", fee_per_share="0"),
        interval_s=60,
        carry=carry,
        seed=1,
    )


async def test_a_signal_fills_on_the_next_print_and_the_day_ends_flat(
    store: ParquetTickStore,
) -> None:
    result = await _run(store, carry=False)

    (trade,) = result.trades
    # The 09:31 bar closes on ABC's first print of 09:32 (10.02), after the venue has seen that
    # print; the entry (sized on the 10.01 close: 999 shares) fills on the next one, 10 s later.
    assert trade.entry_ns == OPEN + 2 * MINUTE + 10 * SECOND
    assert (trade.qty, trade.entry_price) == (Decimal(999), Decimal("10.02"))
    # No carry: exits go out when the clock reaches the last regular minute (15:59), before
    # the print stamped 15:59:00 (10.04), which fills them.
    assert trade.exit_reason == "flatten"
    assert trade.exit_ns == CLOSE - MINUTE
    assert trade.pnl == Decimal("19.98")  # (10.04 - 10.02) * 999
    assert result.counts.ticks == (CLOSE - OPEN) // (10 * SECOND)
    assert result.counts.bars == 2_340 + 390  # the 1 s exit bars and the 1 min bars
    assert result.open_lots == []


async def test_carry_holds_through_the_close_and_the_replay_repeats(
    store: ParquetTickStore,
) -> None:
    first = await _run(store, carry=True)
    second = await _run(store, carry=True)

    assert first.trades == []
    (lot,) = first.open_lots
    assert lot.qty_open == Decimal(999)
    assert first.curve == second.curve
    assert first.counts == second.counts
