"""Corporate actions applied to the book, one row each, so applying one twice changes nothing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "corporate_actions",
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("effective_ns", sa.BigInteger(), nullable=False),
        sa.Column("numerator", sa.Integer(), nullable=False),
        sa.Column("denominator", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("symbol", "effective_ns", name=op.f("pk_corporate_actions")),
    )


def downgrade() -> None:
    op.drop_table("corporate_actions")
