"""Bracket orders: an entry sent with a take-profit and a stop-loss leg that the venue holds.

The legs are orders of the ledger like any other, with ids derived from the entry's, so a
venue's report on a leg, a restart or a reconciliation finds them by id. Neither is sent on
its own: the venue creates both with the entry, keeps them held until the entry has filled
completely, then works them one-cancels-other.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from app.domain.money import ZERO, to_tick
from app.domain.order import Order, OrderStatus, OrderType
from app.domain.signal import Side


class LegKind(enum.StrEnum):
    TAKE_PROFIT = "tp"
    STOP_LOSS = "sl"


_PURPOSE = {LegKind.TAKE_PROFIT: "target", LegKind.STOP_LOSS: "stop"}


@dataclass(frozen=True, slots=True)
class BracketSpec:
    """Where a strategy's venue-held legs sit, in percent of the entry's decision price."""

    stop_pct: float
    target_pct: float

    def __post_init__(self) -> None:
        if not 0 < self.stop_pct < 100 or self.target_pct <= 0:
            raise ValueError(f"a bracket needs 0 < stop_pct < 100 and target_pct > 0: {self}")

    def prices(self, ref: Decimal, side: Side) -> tuple[Decimal, Decimal]:
        """(take_profit, stop_loss) on the tick, each rounded towards the entry: a long's
        target down and stop up, so neither leg sits further away than configured."""
        up = ref * (1 + Decimal(repr(self.target_pct)) / 100)
        down = ref * (1 - Decimal(repr(self.stop_pct)) / 100)
        if side is Side.BUY:
            return to_tick(up, rounding=ROUND_FLOOR), to_tick(down, rounding=ROUND_CEILING)
        far_down = ref * (1 - Decimal(repr(self.target_pct)) / 100)
        far_up = ref * (1 + Decimal(repr(self.stop_pct)) / 100)
        if far_down <= ZERO:
            raise ValueError(f"a short's target of {self.target_pct}% is below zero")
        return to_tick(far_down, rounding=ROUND_CEILING), to_tick(far_up, rounding=ROUND_FLOOR)


def leg_id(entry_id: str, kind: LegKind) -> str:
    return f"{entry_id}-{kind.value}"


def leg_kind(client_order_id: str) -> LegKind | None:
    """Which leg an id names, if it names one."""
    for kind in LegKind:
        if client_order_id.endswith(f"-{kind.value}"):
            return kind
    return None


def legs_of(entry: Order) -> tuple[Order, Order]:
    """The entry's two legs as the ledger first records them: not yet at the venue, for the
    entry's whole quantity."""
    if entry.take_profit is None or entry.stop_loss is None:
        raise ValueError(f"{entry.client_order_id} is not a bracket entry")
    common = replace(
        entry,
        side=entry.side.opposite,
        status=OrderStatus.PENDING_NEW,
        filled_qty=ZERO,
        avg_fill_price=None,
        broker_order_id=None,
        closes=entry.client_order_id,
        parent=entry.client_order_id,
        limit_price=None,
        ref_price=None,
        take_profit=None,
        stop_loss=None,
        expires_ns=None,
        reason="",
    )
    take_profit = replace(
        common,
        client_order_id=leg_id(entry.client_order_id, LegKind.TAKE_PROFIT),
        order_type=OrderType.LIMIT,
        limit_price=entry.take_profit,
        purpose=_PURPOSE[LegKind.TAKE_PROFIT],
    )
    stop_loss = replace(
        common,
        client_order_id=leg_id(entry.client_order_id, LegKind.STOP_LOSS),
        order_type=OrderType.STOP,
        stop_price=entry.stop_loss,
        purpose=_PURPOSE[LegKind.STOP_LOSS],
    )
    return take_profit, stop_loss
