"""The simulated account: cash, net positions per symbol, last prints and the buying-power model.

Cash moves exactly on every fill: a buy pays qty * price + fee, a sell receives
qty * price - fee (prices sit on the tick and fees on the cent; nothing else is rounded).

Equity is cash + sum(qty * last print) over the positions; a short's value is negative. A
position seeded at startup is valued at its average price until its first print.

Buying power is equity * multiplier - exposure. Exposure sums, per symbol, the worst case of the
position if every open order on one side filled: max(|q*m + buy notional|, |q*m - sell
notional|), with q the signed position, m its last print, and open orders valued at their
remaining quantity times their limit (market orders at the current ask/bid, else last print).
So an order that closes a position uses no buying power and one that opens uses its notional.
With multiplier 1 this is a cash account (cash minus what open buys would spend), with 4 an
intraday margin account. Shorts are margined like longs; there is no borrow or locate model.
Buying power goes negative when losses eat into equity; it is reported as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from app.brokers.sim.fill_model import BookTop
from app.domain.money import ZERO, to_avg_price
from app.domain.order import Order, OrderType
from app.domain.signal import Side
from app.ports.broker import BrokerPosition


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderLeg:
    """What one open order could add to a symbol's exposure: its side and remaining notional."""

    symbol: str
    side: Side
    notional: Decimal

    @classmethod
    def of(cls, order: Order, *, top: BookTop | None, last: Decimal | None) -> OrderLeg | None:
        """Remaining qty at the limit, or for a market order at the ask/bid, else the last print;
        None when no price is known."""
        price = order.limit_price if order.order_type is OrderType.LIMIT else None
        if price is None and top is not None:
            price = top.ask if order.side is Side.BUY else top.bid
        if price is None:
            price = last
        if price is None:
            return None
        return cls(symbol=order.symbol, side=order.side, notional=order.remaining * price)


@dataclass(slots=True)
class _Holding:
    qty: Decimal = ZERO
    avg_price: Decimal = ZERO


class AccountBook:
    """Cash, net positions and marks of the simulated account; every number is Decimal."""

    def __init__(self, *, starting_cash: Decimal) -> None:
        self._cash = starting_cash
        self._holdings: dict[str, _Holding] = {}
        self._marks: dict[str, Decimal] = {}

    @property
    def cash(self) -> Decimal:
        return self._cash

    def mark(self, symbol: str, price: Decimal) -> None:
        """Record the last print of a symbol; equity is valued at it."""
        self._marks[symbol] = price

    def valuation_price(self, symbol: str) -> Decimal | None:
        """The last print; for a seeded position before any print, its average price."""
        mark = self._marks.get(symbol)
        holding = self._holdings.get(symbol)
        return mark if mark is not None or holding is None else holding.avg_price

    def apply_fill(
        self, *, symbol: str, side: Side, qty: Decimal, price: Decimal, fee: Decimal
    ) -> None:
        """Book one execution: cash by qty * price + fee, the position by qty."""
        if symbol not in self._marks:
            raise ValueError(f"fill in {symbol} before any print: it cannot be valued")
        self._cash -= qty * price * side.sign + fee
        self._move(symbol, signed=qty * side.sign, price=price)

    def seed(self, symbol: str, *, qty: Decimal, avg_price: Decimal) -> None:
        """Add a position held before the venue started, without moving cash."""
        self._move(symbol, signed=qty, price=avg_price)

    def _move(self, symbol: str, *, signed: Decimal, price: Decimal) -> None:
        if signed == ZERO:
            return
        holding = self._holdings.setdefault(symbol, _Holding())
        before = holding.qty
        after = before + signed
        if before == ZERO or (before > ZERO) == (signed > ZERO):
            total_cost = holding.avg_price * abs(before) + price * abs(signed)
            holding.avg_price = to_avg_price(total_cost / abs(after))
        elif after != ZERO and (after > ZERO) != (before > ZERO):
            holding.avg_price = price
        holding.qty = after
        if after == ZERO:
            del self._holdings[symbol]

    def positions(self) -> list[BrokerPosition]:
        """Open net positions, by symbol; long positive, short negative."""
        return [
            BrokerPosition(symbol=symbol, qty=holding.qty, avg_price=holding.avg_price)
            for symbol, holding in sorted(self._holdings.items())
        ]

    def position_value(self, symbol: str) -> Decimal:
        """Signed value of the position at its valuation price."""
        holding = self._holdings.get(symbol)
        if holding is None:
            return ZERO
        return holding.qty * self._marks.get(symbol, holding.avg_price)

    def equity(self) -> Decimal:
        return self._cash + sum(
            (self.position_value(symbol) for symbol in self._holdings), start=ZERO
        )

    def exposure(self, legs: Iterable[OrderLeg]) -> Decimal:
        """Worst-case gross exposure of the positions plus these open orders (module docstring)."""
        buys, sells = _sides(legs)
        return sum(
            (
                _worst_case(self.position_value(symbol), buys, sells, symbol)
                for symbol in {*self._holdings, *buys, *sells}
            ),
            start=ZERO,
        )

    def order_change(
        self, legs: Iterable[OrderLeg], *, adding: OrderLeg, dropping: OrderLeg | None
    ) -> tuple[Decimal, Decimal, Decimal]:
        """Equity, and the exposure with the open orders `legs` before and after `adding` joins
        them and `dropping` (an order of `legs` it replaces) leaves: one pass over the symbols,
        then only the one or two symbols the change touches are valued again."""
        buys, sells = _sides(legs)
        equity, before = self._cash, ZERO
        for symbol in {*self._holdings, *buys, *sells}:
            value = self.position_value(symbol)
            equity += value
            before += _worst_case(value, buys, sells, symbol)
        touched = {adding.symbol} if dropping is None else {adding.symbol, dropping.symbol}
        after = before
        for symbol in touched:
            after -= _worst_case(self.position_value(symbol), buys, sells, symbol)
        for leg, sign in ((adding, 1), (dropping, -1)):
            if leg is not None:
                side_total = buys if leg.side is Side.BUY else sells
                side_total[leg.symbol] = side_total.get(leg.symbol, ZERO) + sign * leg.notional
        for symbol in touched:
            after += _worst_case(self.position_value(symbol), buys, sells, symbol)
        return equity, before, after

    def buying_power(self, *, multiplier: Decimal, legs: Iterable[OrderLeg]) -> Decimal:
        return self.equity() * multiplier - self.exposure(legs)


def _sides(legs: Iterable[OrderLeg]) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """Open orders' notional per symbol: buys, sells."""
    buys: dict[str, Decimal] = {}
    sells: dict[str, Decimal] = {}
    for leg in legs:
        side_total = buys if leg.side is Side.BUY else sells
        side_total[leg.symbol] = side_total.get(leg.symbol, ZERO) + leg.notional
    return buys, sells


def _worst_case(
    value: Decimal, buys: dict[str, Decimal], sells: dict[str, Decimal], symbol: str
) -> Decimal:
    """A symbol's exposure: its position value if every open order of one side filled."""
    return max(abs(value + buys.get(symbol, ZERO)), abs(value - sells.get(symbol, ZERO)))
