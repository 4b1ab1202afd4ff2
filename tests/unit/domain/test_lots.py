from decimal import Decimal

import pytest

from app.domain.position import Lot, LotMismatch
from app.domain.signal import Side
from tests.builders import fill


def _lot() -> Lot:
    return Lot(entry_order_id="e1", strategy="s", symbol="ABC", side=Side.BUY, opened_ns=1)


def test_exit_fill_closes_the_named_entry_with_exact_pnl() -> None:
    lot = _lot()
    lot.add_entry_fill(fill("x1", coid="e1", qty="100", price="10.00"))
    lot.add_entry_fill(fill("x2", coid="e1", qty="50", price="10.30"))
    assert lot.avg_price == Decimal("10.10")
    trade = lot.close_with(
        fill("x3", coid="q1", qty="60", price="10.50", side=Side.SELL, fee="0.06"),
        exit_order_id="q1",
    )
    assert trade.entry_order_id == "e1" and trade.exit_order_id == "q1"
    assert trade.realized_pnl == Decimal("60") * Decimal("0.40") - Decimal("0.06")
    assert lot.qty_open == Decimal("90")


def test_short_lot_pnl_sign() -> None:
    lot = Lot(entry_order_id="e1", strategy="s", symbol="ABC", side=Side.SELL, opened_ns=1)
    lot.add_entry_fill(fill("x1", coid="e1", qty="10", price="5.00", side=Side.SELL))
    trade = lot.close_with(fill("x2", coid="q", qty="10", price="4.50"), exit_order_id="q")
    assert trade.realized_pnl == Decimal("5.00")
    assert lot.signed_qty == 0


def test_exit_larger_than_open_is_refused() -> None:
    lot = _lot()
    lot.add_entry_fill(fill("x1", coid="e1", qty="10"))
    with pytest.raises(LotMismatch):
        lot.close_with(fill("x2", qty="11", side=Side.SELL), exit_order_id="q")
    with pytest.raises(LotMismatch):
        lot.close_with(fill("x3", qty="1", side=Side.BUY), exit_order_id="q")
