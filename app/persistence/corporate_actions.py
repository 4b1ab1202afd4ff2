"""Applying a split to the persisted book: lots, positions and exit states, in one transaction."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.corporate_action import Split, split_exit_state, split_lot, split_position
from app.domain.exit_state import ExitState
from app.persistence.codecs import lot_from_row, lot_row, position_from_row, position_row
from app.persistence.statements import insert_new, upsert
from app.persistence.tables import corporate_actions, exit_states, lots, positions


async def apply_split(connection: AsyncConnection, split: Split) -> Decimal | None:
    """Adjust everything held in `split.symbol`; returns the fractional shares left as cash in
    lieu, or None when this split was applied before (nothing changes)."""
    dialect = connection.dialect
    recorded = await connection.execute(
        insert_new(
            dialect,
            corporate_actions,
            {
                "symbol": split.symbol,
                "effective_ns": split.effective_ns,
                "numerator": split.numerator,
                "denominator": split.denominator,
            },
            key=[corporate_actions.c.symbol, corporate_actions.c.effective_ns],
        )
    )
    if recorded.rowcount == 0:
        return None
    fractions = Decimal(0)
    held = await connection.execute(
        select(lots).where(lots.c.symbol == split.symbol, lots.c.is_open)
    )
    for row in held.mappings().all():
        lot, fraction = split_lot(lot_from_row(row), split)
        fractions += fraction
        await connection.execute(upsert(dialect, lots, lot_row(lot), key=[lots.c.entry_order_id]))
        state_row = (
            (
                await connection.execute(
                    select(exit_states).where(exit_states.c.entry_order_id == lot.entry_order_id)
                )
            )
            .mappings()
            .first()
        )
        if state_row is not None:
            state = split_exit_state(
                ExitState(lot.entry_order_id, state_row["best_price"], state_row["targets_hit"]),
                split,
            )
            await connection.execute(
                exit_states.update()
                .where(exit_states.c.entry_order_id == lot.entry_order_id)
                .values(best_price=state.best_price)
            )
    for row in (
        (await connection.execute(select(positions).where(positions.c.symbol == split.symbol)))
        .mappings()
        .all()
    ):
        position = split_position(position_from_row(row), split)
        await connection.execute(
            upsert(
                dialect,
                positions,
                position_row(position),
                key=[positions.c.strategy, positions.c.symbol],
            )
        )
    return fractions
