"""A split applied to the persisted book, on every ledger backend (S20)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from app.domain.corporate_action import Split
from app.domain.exit_state import ExitState
from app.domain.position import Lot, Position
from app.domain.signal import Side
from app.persistence.ledger import SqlLedger
from tests.integration.ledger_builders import a_fill, an_order


@pytest.fixture
async def ledger(migrated_db: str) -> AsyncIterator[SqlLedger]:
    book = SqlLedger(migrated_db)
    await book.start()
    yield book
    await book.close()


async def test_a_four_for_one_split_adjusts_the_book_once(ledger: SqlLedger) -> None:
    entry = an_order("e1", symbol="ABCD", qty=Decimal(100), limit_price=None)
    assert await ledger.insert_order(entry)
    fill = a_fill(entry, "x1", "100", "400.00")
    entry.apply_fill(fill.qty, fill.price, now_ns=fill.ts_ns)
    lot = Lot("e1", entry.strategy, "ABCD", Side.BUY, fill.ts_ns)
    lot.add_entry_fill(fill)
    position = Position(entry.strategy, "ABCD", Decimal(100), Decimal("400.00"))
    assert await ledger.book_fill(fill, order=entry, lot=lot, position=position, trade=None)
    await ledger.save_exit_states([ExitState("e1", best_price=404.0, targets_hit=1)])

    split = Split("ABCD", 4, 1, effective_ns=10_000)
    assert await ledger.apply_split(split) == Decimal(0)
    assert await ledger.apply_split(split) is None  # applying it again changes nothing

    (after,) = await ledger.open_lots()
    assert (after.qty_open, after.qty_filled, after.avg_price) == (
        Decimal(400),
        Decimal(400),
        Decimal(100),
    )
    (held,) = await ledger.positions()
    assert (held.qty, held.avg_cost) == (Decimal(400), Decimal(100))
    assert await ledger.exit_states() == [ExitState("e1", best_price=101.0, targets_hit=1)]
