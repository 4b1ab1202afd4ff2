"""The ledger: signals with decisions, orders, fills, lots, trades, positions.

Revision ID: 0001
Revises:
Create Date: 2024-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.persistence.types import Money

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "signals",
        sa.Column("id", SERIAL, nullable=False, autoincrement=True),
        sa.Column("dedup_key", sa.Text(), nullable=False),
        sa.Column("strategy", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.Double(), nullable=False),
        sa.Column("stop_price", sa.Double(), nullable=True),
        sa.Column("confidence", sa.Double(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("closes", sa.Text(), nullable=True),
        sa.Column("qty", Money(), nullable=True),
        sa.Column("indicators", DOCUMENT, nullable=False),
        sa.Column("decision_approved", sa.Boolean(), nullable=False),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("decision_qty", Money(), nullable=True),
        sa.Column("decision_checks", DOCUMENT, nullable=False),
        sa.Column("client_order_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signals")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_signals_dedup_key")),
    )
    op.create_index(op.f("ix_signals_ts_ns"), "signals", ["ts_ns"])

    op.create_table(
        "orders",
        sa.Column("client_order_id", sa.Text(), nullable=False),
        sa.Column("broker_order_id", sa.Text(), nullable=True),
        sa.Column("strategy", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("qty", Money(), nullable=False),
        sa.Column("order_type", sa.Text(), nullable=False),
        sa.Column("limit_price", Money(), nullable=True),
        sa.Column("ref_price", Money(), nullable=True),
        sa.Column("tif", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("filled_qty", Money(), nullable=False),
        sa.Column("avg_fill_price", Money(), nullable=True),
        sa.Column("closes", sa.Text(), nullable=True),
        sa.Column("signal_key", sa.Text(), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
        sa.Column("expires_ns", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("client_order_id", name=op.f("pk_orders")),
    )
    op.create_index(op.f("ix_orders_status"), "orders", ["status"])
    op.create_index(op.f("ix_orders_created_ns"), "orders", ["created_ns"])

    op.create_table(
        "fills",
        sa.Column("execution_id", sa.Text(), nullable=False),
        sa.Column("client_order_id", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("qty", Money(), nullable=False),
        sa.Column("price", Money(), nullable=False),
        sa.Column("fee", Money(), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("execution_id", name=op.f("pk_fills")),
        sa.ForeignKeyConstraint(
            ["client_order_id"],
            ["orders.client_order_id"],
            name=op.f("fk_fills_client_order_id_orders"),
        ),
    )
    op.create_index(op.f("ix_fills_client_order_id"), "fills", ["client_order_id"])

    op.create_table(
        "lots",
        sa.Column("entry_order_id", sa.Text(), nullable=False),
        sa.Column("strategy", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("opened_ns", sa.BigInteger(), nullable=False),
        sa.Column("qty_filled", Money(), nullable=False),
        sa.Column("qty_open", Money(), nullable=False),
        sa.Column("avg_price", Money(), nullable=False),
        sa.Column("fees", Money(), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("entry_order_id", name=op.f("pk_lots")),
    )
    op.create_index(op.f("ix_lots_is_open"), "lots", ["is_open"])

    op.create_table(
        "trades",
        sa.Column("id", SERIAL, nullable=False, autoincrement=True),
        sa.Column("exit_execution_id", sa.Text(), nullable=False),
        sa.Column("entry_order_id", sa.Text(), nullable=False),
        sa.Column("exit_order_id", sa.Text(), nullable=False),
        sa.Column("strategy", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("qty", Money(), nullable=False),
        sa.Column("entry_price", Money(), nullable=False),
        sa.Column("exit_price", Money(), nullable=False),
        sa.Column("entry_ns", sa.BigInteger(), nullable=False),
        sa.Column("exit_ns", sa.BigInteger(), nullable=False),
        sa.Column("realized_pnl", Money(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trades")),
        sa.UniqueConstraint("exit_execution_id", name=op.f("uq_trades_exit_execution_id")),
    )
    op.create_index(op.f("ix_trades_entry_order_id"), "trades", ["entry_order_id"])
    op.create_index(op.f("ix_trades_exit_ns"), "trades", ["exit_ns"])

    op.create_table(
        "positions",
        sa.Column("strategy", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("qty", Money(), nullable=False),
        sa.Column("avg_cost", Money(), nullable=False),
        sa.Column("realized_pnl", Money(), nullable=False),
        sa.PrimaryKeyConstraint("strategy", "symbol", name=op.f("pk_positions")),
    )


def downgrade() -> None:
    for table in ("positions", "trades", "lots", "fills", "orders", "signals"):
        op.drop_table(table)
