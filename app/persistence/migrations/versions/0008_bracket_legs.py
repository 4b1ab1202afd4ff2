"""Bracket orders: an entry's leg prices, and each leg's stop price and parent entry.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.persistence.types import Money

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_PRICES = ("stop_price", "take_profit", "stop_loss")


def upgrade() -> None:
    with op.batch_alter_table("orders") as orders:
        for name in _PRICES:
            orders.add_column(sa.Column(name, Money(), nullable=True))
        orders.add_column(sa.Column("parent", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders") as orders:
        orders.drop_column("parent")
        for name in reversed(_PRICES):
            orders.drop_column(name)
