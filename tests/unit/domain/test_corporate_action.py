from decimal import Decimal

import pytest

from app.domain.corporate_action import Split, split_exit_state, split_lot, split_position
from app.domain.exit_state import ExitState
from app.domain.position import Lot, Position
from app.domain.signal import Side
from app.exits.config import ExitConfig
from app.exits.engine import ExitEngine
from tests.builders import OPEN_NS, bar


def test_four_for_one_turns_100_at_400_into_400_at_100_exactly() -> None:
    lot = Lot("e", "s", "ABC", Side.BUY, 0, Decimal(100), Decimal(100), Decimal("400.00"))
    split = Split("ABC", 4, 1, OPEN_NS)
    after, cash_in_lieu = split_lot(lot, split)
    assert (after.qty_open, after.avg_price, cash_in_lieu) == (
        Decimal(400),
        Decimal(100),
        Decimal(0),
    )
    assert after.qty_open * after.avg_price == lot.qty_open * lot.avg_price
    position = split_position(Position("s", "ABC", Decimal(100), Decimal("400")), split)
    assert (position.qty, position.avg_cost) == (Decimal(400), Decimal(100))


def test_no_stop_fires_on_the_split_adjusted_price() -> None:
    lot = Lot("e", "s", "ABC", Side.BUY, OPEN_NS, Decimal(100), Decimal(100), Decimal("400"))
    split = Split("ABC", 4, 1, OPEN_NS)
    after, _ = split_lot(lot, split)
    state = split_exit_state(ExitState("e", best_price=404.0), split)
    assert state.best_price == 101.0
    engine = ExitEngine({}, default=ExitConfig(stop_pct=2.0, trailing_pct=2.0))
    post_split_bar = bar(interval_s=1, o=100.5, h=100.6, low=99.5, c=100.0)
    assert engine.decide(post_split_bar, after, state, now_ns=post_split_bar.end_ns) is None
    unadjusted = engine.decide(
        post_split_bar, lot, ExitState("e", 404.0), now_ns=post_split_bar.end_ns
    )
    assert unadjusted is not None  # without the action the same tape would look like a crash


def test_odd_lots_leave_cash_in_lieu_and_bad_ratios_are_refused() -> None:
    lot = Lot("e", "s", "ABC", Side.BUY, 0, Decimal(101), Decimal(101), Decimal("9"))
    after, fraction = split_lot(lot, Split("ABC", 1, 2, 0))
    assert (after.qty_open, fraction, after.avg_price) == (Decimal(50), Decimal("0.5"), Decimal(18))
    with pytest.raises(ValueError):
        Split("ABC", 0, 1, 0)
