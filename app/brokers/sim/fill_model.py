"""How the simulated venue prices and sizes fills: spread, slippage, participation and fees.

The rules, all on Decimal prices that sit on the instrument's tick:

* Market orders. The reference is the ask (buys) or the bid (sells) when a quote is known and
  the model is spread-aware, else the print. Slippage moves it against the order by
  `slippage_bps`, and the result is rounded to the tick against the order (a buy rounds up, a
  sell down), so slippage is never rounded away.
* Limit orders, conservatively. A print must trade at or through the limit (buy: print <= limit,
  sell: print >= limit). On the first print it sees after going live, an order is marketable and
  fills at the market price of the rule above, capped at its limit (the limit or better). After
  that it rests on the book at its limit, and later fills happen exactly at the limit: a resting
  order never gets price improvement.
* Size. Each print offers max(1, floor(participation * size)) shares to the live orders on its
  symbol, shared in time priority; a print of size zero offers nothing.
* Fees. fee_per_share * qty for each execution, raised to fee_min and capped at fee_max when
  they are set, rounded to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.domain.market import Quote
from app.domain.money import (
    ONE_DOLLAR,
    SUB_PENNY,
    ZERO,
    InvalidPrice,
    price_from_float,
    tick_size_for,
    to_cents,
    to_tick,
    whole_shares,
)
from app.domain.signal import Side

_BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class BookTop:
    """The best bid and ask of one symbol, on the tick."""

    bid: Decimal
    ask: Decimal

    @classmethod
    def from_quote(cls, quote: Quote) -> BookTop | None:
        """The quote on the tick, or None when a side is not a positive price or it is crossed."""
        try:
            top = cls(bid=price_from_float(quote.bid), ask=price_from_float(quote.ask))
        except InvalidPrice:
            return None
        return top if top.bid <= top.ask else None


@dataclass(frozen=True, slots=True, kw_only=True)
class FillModel:
    """Frozen pricing config of the simulated venue; see the module docstring for the rules."""

    slippage_bps: Decimal = ZERO
    spread_aware: bool = True
    participation: Decimal = ONE_DOLLAR
    fee_per_share: Decimal = ZERO
    fee_min: Decimal | None = None
    fee_max: Decimal | None = None

    def __post_init__(self) -> None:
        if not ZERO <= self.slippage_bps < _BPS:
            raise ValueError(f"slippage_bps must be in [0, 10000), got {self.slippage_bps}")
        if not ZERO < self.participation <= ONE_DOLLAR:
            raise ValueError(f"participation must be in (0, 1], got {self.participation}")
        if self.fee_per_share < ZERO:
            raise ValueError(f"fee_per_share must not be negative, got {self.fee_per_share}")
        if self.fee_min is not None and self.fee_min < ZERO:
            raise ValueError(f"fee_min must not be negative, got {self.fee_min}")
        if self.fee_max is not None and self.fee_max < (self.fee_min or ZERO):
            raise ValueError(f"fee_max {self.fee_max} is below fee_min {self.fee_min}")

    def market_price(self, side: Side, *, last: Decimal, top: BookTop | None) -> Decimal:
        """What a marketable order pays (buy) or gets (sell) against this print and quote."""
        if self.spread_aware and top is not None:
            reference = top.ask if side is Side.BUY else top.bid
        else:
            reference = last
        slip = reference * self.slippage_bps / _BPS
        return _round_against(reference + slip * side.sign, side)

    def limit_price(
        self, side: Side, *, limit: Decimal, last: Decimal, top: BookTop | None, resting: bool
    ) -> Decimal | None:
        """The fill price of a limit order against this print, or None when it is not crossed."""
        crossed = last <= limit if side is Side.BUY else last >= limit
        if not crossed:
            return None
        if resting:
            return limit
        market = self.market_price(side, last=last, top=top)
        return min(limit, market) if side is Side.BUY else max(limit, market)

    def print_allowance(self, size: int) -> Decimal:
        """How many shares one print of `size` offers to the orders on its symbol."""
        if size <= 0:
            return ZERO
        return max(ONE_DOLLAR, whole_shares(self.participation * size))

    def fee(self, qty: Decimal) -> Decimal:
        """The fee of one execution of `qty` shares, to the cent."""
        amount = self.fee_per_share * qty
        if self.fee_min is not None:
            amount = max(amount, self.fee_min)
        if self.fee_max is not None:
            amount = min(amount, self.fee_max)
        return to_cents(amount)


def _round_against(price: Decimal, side: Side) -> Decimal:
    """Round to the tick against the order: a buy pays the tick above, a sell gets the one below."""
    nearest = to_tick(price)
    step = tick_size_for(price)
    if side is Side.BUY and nearest < price:
        return to_tick(nearest + step)
    if side is Side.SELL and nearest > price:
        return max(SUB_PENNY, to_tick(nearest - step))
    return nearest
