"""Positions as open lots: every exit fill closes a named entry, never "the oldest" (no FIFO)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import msgspec

from app.domain.execution import Fill
from app.domain.money import ZERO, to_avg_price
from app.domain.signal import Side


class LotMismatch(ValueError):
    """An exit fill does not fit the lot it claims to close."""


@dataclass(slots=True)
class Lot:
    """What one entry order opened and how much of it is still open."""

    entry_order_id: str
    strategy: str
    symbol: str
    side: Side
    opened_ns: int
    qty_filled: Decimal = ZERO
    qty_open: Decimal = ZERO
    avg_price: Decimal = ZERO
    fees: Decimal = ZERO

    def add_entry_fill(self, fill: Fill) -> None:
        if fill.side is not self.side:
            raise LotMismatch(f"entry fill side {fill.side} on a {self.side} lot")
        total = self.qty_filled + fill.qty
        self.avg_price = to_avg_price(
            (self.avg_price * self.qty_filled + fill.price * fill.qty) / total
        )
        self.qty_filled = total
        self.qty_open += fill.qty
        self.fees += fill.fee

    def close_with(self, fill: Fill, *, exit_order_id: str, exit_reason: str = "") -> Trade:
        """Close part of this lot with an exit fill and return the trade that links them."""
        if fill.side is self.side:
            raise LotMismatch(f"exit fill on the same side as lot {self.entry_order_id}")
        if fill.qty > self.qty_open:
            raise LotMismatch(
                f"exit of {fill.qty} exceeds open {self.qty_open} of {self.entry_order_id}"
            )
        self.qty_open -= fill.qty
        gross = (fill.price - self.avg_price) * fill.qty * self.side.sign
        return Trade(
            strategy=self.strategy,
            symbol=self.symbol,
            side=self.side,
            entry_order_id=self.entry_order_id,
            exit_order_id=exit_order_id,
            exit_execution_id=fill.execution_id,
            qty=fill.qty,
            entry_price=self.avg_price,
            exit_price=fill.price,
            entry_ns=self.opened_ns,
            exit_ns=fill.ts_ns,
            realized_pnl=gross - fill.fee,
            exit_reason=exit_reason,
        )

    @property
    def signed_qty(self) -> Decimal:
        return self.qty_open * self.side.sign


class Trade(msgspec.Struct, frozen=True):
    """One exit execution linked to the entry it closed, with its realized P&L (net of exit fee)."""

    strategy: str
    symbol: str
    side: Side
    entry_order_id: str
    exit_order_id: str
    exit_execution_id: str
    qty: Decimal
    entry_price: Decimal
    exit_price: Decimal
    entry_ns: int
    exit_ns: int
    realized_pnl: Decimal
    exit_reason: str = ""


@dataclass(slots=True)
class Position:
    """A strategy's net holding in one symbol, summed over its open lots."""

    strategy: str
    symbol: str
    qty: Decimal = ZERO
    avg_cost: Decimal = ZERO
    realized_pnl: Decimal = ZERO

    def unrealized(self, mark: Decimal) -> Decimal:
        return (mark - self.avg_cost) * self.qty


class LotUpdate(msgspec.Struct, frozen=True):
    """What execution tells the shards after a fill: the lot, and whether an exit is working."""

    lot: Lot
    exit_working: bool
