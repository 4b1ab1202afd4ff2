from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from app.backtest.adjust import adjust_bars, adjust_ticks, by_symbol
from app.backtest.runner import run_bars
from app.domain.calendar import session_open_ns
from app.domain.corporate_action import Split
from app.domain.market import Tick
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

EFFECTIVE = session_open_ns(DAY_2)


def _two_days(before: float, after: float) -> list[Row]:
    return flat_day("ABC", DAY_1, minutes=5, price=before, volume=40_000) + flat_day(
        "ABC", DAY_2, minutes=5, price=after, volume=40_000
    )


def test_a_two_for_one_split_halves_earlier_prices_and_doubles_their_volume() -> None:
    table = bar_table(_two_days(20.0, 10.0) + flat_day("XYZ", DAY_1, minutes=1, price=5.0))
    split = Split("ABC", 2, 1, EFFECTIVE)

    adjusted = adjust_bars(table, [split])

    abc = adjusted.symbol_rows("ABC")
    assert adjusted.close[abc].tolist() == [10.0] * 10
    assert adjusted.high[abc].tolist() == [10.005] * 5 + [10.01] * 5
    assert adjusted.volume[abc].tolist() == [80_000] * 5 + [40_000] * 5
    xyz = adjusted.symbol_rows("XYZ")
    assert (adjusted.close[xyz].tolist(), adjusted.volume[xyz].tolist()) == ([5.0], [40_000])


def test_a_one_for_ten_reverse_split_multiplies_earlier_prices_by_ten() -> None:
    table = bar_table(_two_days(0.5, 5.0))

    adjusted = adjust_bars(table, [Split("ABC", 1, 10, EFFECTIVE)])

    assert adjusted.close.tolist() == pytest.approx([5.0] * 10)
    assert adjusted.volume.tolist() == [4_000] * 5 + [40_000] * 5


def test_splits_compound_and_ticks_are_restated_the_same_way() -> None:
    splits = by_symbol([Split("ABC", 2, 1, EFFECTIVE), Split("ABC", 3, 1, EFFECTIVE + MINUTE)])
    early = Tick("ABC", EFFECTIVE - 1, 60.0, 100)
    between = Tick("ABC", EFFECTIVE, 30.0, 100)
    late = Tick("ABC", EFFECTIVE + MINUTE, 10.0, 100)

    restated = adjust_ticks([early, between, late, Tick("XYZ", 0, 7.0, 5)], splits)

    assert [(t.price, t.size) for t in restated] == [
        (10.0, 600),
        (10.0, 300),
        (10.0, 100),
        (7.0, 5),
    ]


def test_no_split_leaves_the_table_as_it_is() -> None:
    table = bar_table(_two_days(10.0, 10.0))
    assert adjust_bars(table, []) is table
    assert np.array_equal(adjust_bars(table, [Split("XYZ", 2, 1, EFFECTIVE)]).close, table.close)


@pytest.mark.parametrize(
    ("split", "before", "after", "misfire"),
    [
        (Split("ABC", 2, 1, EFFECTIVE), 20.0, 10.0, "stop"),  # -50% overnight: the stop fires
        (Split("ABC", 1, 10, EFFECTIVE), 0.5, 5.0, "target"),  # +900%: the target fires
    ],
)
def test_exits_do_not_misfire_across_an_adjusted_split(
    split: Split, before: float, after: float, misfire: str
) -> None:
    """The probe buys on day 1 and holds (carry); the stock splits overnight."""
    table = bar_table(_two_days(before, after))

    def run(adjust: bool) -> list[str]:
        result = run_bars(
            adjust_bars(table, [split]) if adjust else table,
            strategies=[Probe(session_open_ns(DAY_1) + MINUTE)],
            setup=core_setup(slippage_bps="0", fee_per_share="0"),
            carry=True,
            seed=1,
        )
        return [t.exit_reason for t in result.trades]

    assert run(adjust=False) == [misfire]
    assert run(adjust=True) == []


def test_an_adjusted_position_is_held_in_todays_shares() -> None:
    table = adjust_bars(bar_table(_two_days(20.0, 10.0)), [Split("ABC", 2, 1, EFFECTIVE)])

    result = run_bars(
        table,
        strategies=[Probe(session_open_ns(DAY_1) + MINUTE)],
        setup=core_setup(slippage_bps="0", fee_per_share="0"),
        carry=True,
        seed=1,
    )

    (lot,) = result.open_lots
    assert lot.avg_price == Decimal("10.00")  # bought at 20.00 before the split: 10.00 today
