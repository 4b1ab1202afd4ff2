"""AccountBook.order_change, the buying-power check's one pass, equals the plain sums it replaces:
equity, and the exposure of the open orders before and after one joins (and another leaves)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from app.brokers.sim.account_book import AccountBook, OrderLeg
from app.domain.signal import Side

SYMBOLS = ("AAA", "BBB", "CCC", "DDD")
cents = st.integers(1, 5_000).map(lambda c: Decimal(c) / 100)
legs = st.builds(
    OrderLeg,
    symbol=st.sampled_from(SYMBOLS),
    side=st.sampled_from(Side),
    notional=st.integers(1, 10**6).map(lambda c: Decimal(c) / 100),
)
holdings = st.lists(
    st.tuples(st.sampled_from(SYMBOLS), st.integers(-500, 500), cents, cents), max_size=6
)


@settings(max_examples=200, deadline=None)
@given(held=holdings, open_legs=st.lists(legs, max_size=6), adding=legs, drop=st.integers(-1, 5))
def test_order_change_equals_equity_and_both_exposures(
    held: list[tuple[str, int, Decimal, Decimal]],
    open_legs: list[OrderLeg],
    adding: OrderLeg,
    drop: int,
) -> None:
    book = AccountBook(starting_cash=Decimal("100000"))
    for symbol, qty, avg, mark in held:
        book.seed(symbol, qty=Decimal(qty), avg_price=avg)
        book.mark(symbol, mark)
    dropping = open_legs[drop] if 0 <= drop < len(open_legs) else None
    kept = [leg for i, leg in enumerate(open_legs) if i != drop]

    equity, before, after = book.order_change(open_legs, adding=adding, dropping=dropping)

    assert equity == book.equity()
    assert before == book.exposure(open_legs)
    assert after == book.exposure([*(kept if dropping is not None else open_legs), adding])
