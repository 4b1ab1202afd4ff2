"""Strategy configuration in the database, and the detection tag on each recorded signal.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("signals") as batch:
        batch.add_column(sa.Column("detection", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "strategy_configs",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("params", DOCUMENT, nullable=False),
        sa.Column("exit", DOCUMENT, nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_strategy_configs")),
    )
    op.create_index(
        op.f("ix_strategy_configs_version"), "strategy_configs", ["version"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_strategy_configs_version"), table_name="strategy_configs")
    op.drop_table("strategy_configs")
    with op.batch_alter_table("signals") as batch:
        batch.drop_column("detection")
