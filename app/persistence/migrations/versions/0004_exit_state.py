"""Exit state of open lots, and why each exit order was sent (kept on orders and trades).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exit_states",
        sa.Column("entry_order_id", sa.Text(), nullable=False),
        sa.Column("best_price", sa.Double(), nullable=False),
        sa.Column("targets_hit", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("entry_order_id", name=op.f("pk_exit_states")),
    )
    with op.batch_alter_table("orders") as orders:
        orders.add_column(sa.Column("purpose", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("trades") as trades:
        trades.add_column(sa.Column("exit_reason", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("trades") as trades:
        trades.drop_column("exit_reason")
    with op.batch_alter_table("orders") as orders:
        orders.drop_column("purpose")
    op.drop_table("exit_states")
