"""Risk state: halts, strategy states, daily counters, breakers, daily-reset markers, audit log.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.persistence.types import Money

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "halts",
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("since_ns", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "kind", name=op.f("pk_halts")),
    )

    op.create_table(
        "strategy_states",
        sa.Column("strategy", sa.Text(), nullable=False),
        sa.Column("cumulative_pnl", Money(), nullable=False),
        sa.Column("peak_pnl", Money(), nullable=False),
        sa.Column("loss_streak", sa.Integer(), nullable=False),
        sa.Column("cooldown_until_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("strategy", name=op.f("pk_strategy_states")),
    )

    op.create_table(
        "daily_counters",
        sa.Column("trading_day", sa.Text(), nullable=False),
        sa.Column("strategy", sa.Text(), nullable=False),
        sa.Column("realized_pnl", Money(), nullable=False),
        sa.Column("trades", sa.Integer(), nullable=False),
        sa.Column("day_trades", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("trading_day", "strategy", name=op.f("pk_daily_counters")),
    )

    op.create_table(
        "breakers",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("opened_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_breakers")),
    )

    op.create_table(
        "daily_resets",
        sa.Column("trading_day", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("ran_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("trading_day", name=op.f("pk_daily_resets")),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", SERIAL, nullable=False, autoincrement=True),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_ts_ns"), "audit_log", ["ts_ns"])


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_log_ts_ns"), table_name="audit_log")
    for table in (
        "audit_log",
        "daily_resets",
        "breakers",
        "daily_counters",
        "strategy_states",
        "halts",
    ):
        op.drop_table(table)
