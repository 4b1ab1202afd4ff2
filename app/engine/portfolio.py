"""The book: open lots and per-strategy positions, changed only by booked fills."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from app.domain.execution import Fill
from app.domain.money import ZERO, price_from_float, to_avg_price, to_cents
from app.domain.order import Order
from app.domain.position import Lot, Position, Trade


@dataclass(frozen=True, slots=True)
class FillEffect:
    """What one fill would change; computed on copies, installed only after it is persisted."""

    fill: Fill
    order: Order
    lot: Lot
    position: Position
    trade: Trade | None


class UnlinkedExit(ValueError):
    """An exit fill names an entry lot the book does not hold."""


class Portfolio:
    def __init__(self, *, starting_cash: Decimal) -> None:
        self.starting_cash = starting_cash
        self.lots: dict[str, Lot] = {}
        self.positions: dict[tuple[str, str], Position] = {}

    def load(self, *, lots: Iterable[Lot], positions: Iterable[Position]) -> None:
        self.lots = {lot.entry_order_id: lot for lot in lots}
        self.positions = {(p.strategy, p.symbol): p for p in positions}

    def open_lots(self, strategy: str, symbol: str) -> list[Lot]:
        return [
            lot
            for lot in self.lots.values()
            if lot.strategy == strategy and lot.symbol == symbol and lot.qty_open > ZERO
        ]

    def preview_fill(self, fill: Fill, order: Order) -> FillEffect:
        new_order = replace(order)
        new_order.apply_fill(fill.qty, fill.price, now_ns=fill.ts_ns)
        key = (order.strategy, order.symbol)
        old_position = self.positions.get(key) or Position(order.strategy, order.symbol)
        trade: Trade | None = None
        if order.is_entry:
            existing = self.lots.get(order.client_order_id)
            lot = (
                replace(existing)
                if existing is not None
                else Lot(
                    entry_order_id=order.client_order_id,
                    strategy=order.strategy,
                    symbol=order.symbol,
                    side=order.side,
                    opened_ns=fill.ts_ns,
                )
            )
            lot.add_entry_fill(fill)
            realized = old_position.realized_pnl - fill.fee
        else:
            entry_id = order.closes or ""
            existing = self.lots.get(entry_id)
            if existing is None:
                raise UnlinkedExit(f"exit {order.client_order_id} closes unknown lot {entry_id}")
            lot = replace(existing)
            trade = lot.close_with(
                fill, exit_order_id=order.client_order_id, exit_reason=order.purpose
            )
            realized = old_position.realized_pnl + trade.realized_pnl
        position = self._position_with(key, lot, realized)
        return FillEffect(fill=fill, order=new_order, lot=lot, position=position, trade=trade)

    def _position_with(self, key: tuple[str, str], changed: Lot, realized: Decimal) -> Position:
        lots = [lot for lot in self.lots.values() if (lot.strategy, lot.symbol) == key]
        lots = [lot for lot in lots if lot.entry_order_id != changed.entry_order_id] + [changed]
        qty = sum((lot.signed_qty for lot in lots), ZERO)
        gross = sum((lot.qty_open for lot in lots), ZERO)
        cost = sum((lot.qty_open * lot.avg_price for lot in lots), ZERO)
        avg = to_avg_price(cost / gross) if gross else ZERO
        return Position(
            strategy=key[0], symbol=key[1], qty=qty, avg_cost=avg, realized_pnl=realized
        )

    def commit(self, effect: FillEffect) -> None:
        self.lots[effect.lot.entry_order_id] = effect.lot
        self.positions[(effect.position.strategy, effect.position.symbol)] = effect.position

    def exposure(self) -> Decimal:
        return sum((lot.qty_open * lot.avg_price for lot in self.lots.values()), ZERO)

    def realized(self) -> Decimal:
        return sum((p.realized_pnl for p in self.positions.values()), ZERO)

    def equity_at_cost(self) -> Decimal:
        return self.starting_cash + self.realized()

    def open_position_count(self) -> int:
        return sum(1 for p in self.positions.values() if p.qty != ZERO)

    def unrealized(self, marks: Mapping[str, float]) -> Decimal:
        total = ZERO
        for lot in self.lots.values():
            mark = marks.get(lot.symbol)
            if lot.qty_open > ZERO and mark is not None:
                total += (price_from_float(mark) - lot.avg_price) * lot.signed_qty
        return to_cents(total)
