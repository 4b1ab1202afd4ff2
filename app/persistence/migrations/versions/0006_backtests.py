"""Backtest runs (keyed by the hash of their configuration) and their closed trades.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.persistence.types import Money

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "backtest_runs",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("config", DOCUMENT, nullable=False),
        sa.Column("params", DOCUMENT, nullable=False),
        sa.Column("period_from", sa.Text(), nullable=False),
        sa.Column("period_to", sa.Text(), nullable=False),
        sa.Column("strategies", DOCUMENT, nullable=False),
        sa.Column("summary", DOCUMENT, nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backtest_runs")),
    )
    op.create_index(op.f("ix_backtest_runs_created_ns"), "backtest_runs", ["created_ns"])
    op.create_table(
        "backtest_trades",
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("strategy", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("entry_ns", sa.BigInteger(), nullable=False),
        sa.Column("exit_ns", sa.BigInteger(), nullable=False),
        sa.Column("entry_price", Money(), nullable=False),
        sa.Column("exit_price", Money(), nullable=False),
        sa.Column("qty", Money(), nullable=False),
        sa.Column("fees", Money(), nullable=False),
        sa.Column("pnl", Money(), nullable=False),
        sa.Column("exit_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["backtest_runs.id"],
            name=op.f("fk_backtest_trades_run_id_backtest_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "seq", name=op.f("pk_backtest_trades")),
    )


def downgrade() -> None:
    op.drop_table("backtest_trades")
    op.drop_index(op.f("ix_backtest_runs_created_ns"), table_name="backtest_runs")
    op.drop_table("backtest_runs")
