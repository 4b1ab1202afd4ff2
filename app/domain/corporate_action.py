"""Corporate actions: a split rescales quantities and prices so the cost basis is unchanged."""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_DOWN, Decimal

import msgspec

from app.domain.exit_state import ExitState
from app.domain.money import to_avg_price
from app.domain.position import Lot, Position


class Split(msgspec.Struct, frozen=True):
    """`numerator` new shares for every `denominator` old ones (4:1 forward, 1:10 reverse)."""

    symbol: str
    numerator: int
    denominator: int
    effective_ns: int

    def __post_init__(self) -> None:
        if self.numerator <= 0 or self.denominator <= 0:
            raise ValueError(
                f"a split ratio must be positive, got {self.numerator}:{self.denominator}"
            )

    @property
    def ratio(self) -> Decimal:
        return Decimal(self.numerator) / Decimal(self.denominator)


def split_lot(lot: Lot, split: Split) -> tuple[Lot, Decimal]:
    """The lot after the split and the fractional shares it leaves (paid out as cash in lieu)."""
    exact = lot.qty_open * split.ratio
    whole = exact.quantize(Decimal(1), rounding=ROUND_DOWN)
    return (
        replace(
            lot,
            qty_open=whole,
            qty_filled=(lot.qty_filled * split.ratio).quantize(Decimal(1), rounding=ROUND_DOWN),
            avg_price=to_avg_price(lot.avg_price / split.ratio),
        ),
        exact - whole,
    )


def split_position(position: Position, split: Split) -> Position:
    return replace(
        position,
        qty=(position.qty * split.ratio).quantize(Decimal(1), rounding=ROUND_DOWN),
        avg_cost=to_avg_price(position.avg_cost / split.ratio),
    )


def split_exit_state(state: ExitState, split: Split) -> ExitState:
    return ExitState(
        state.entry_order_id,
        best_price=state.best_price / float(split.ratio),
        targets_hit=state.targets_hit,
    )
