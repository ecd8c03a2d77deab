"""statistics roll-up: stats_months, stats_counts; cases by (created_at, updated_at)

Revision ID: 0012_stats_rollup
Revises: 0011_stats_indexes
Create Date: 2026-12-06 10:00:00.000000

A year's statistics read each month's counts from ``stats_counts`` (``bot.stats.rollup``)
instead of counting the year's cases; a month is counted again when its cases' number or their
latest ``updated_at`` changed, which the index on (created_at, updated_at) answers for a year
without reading the cases themselves. Both tables start empty: the first page counts them.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0012_stats_rollup"
down_revision = "0011_stats_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stats_months",
        sa.Column("month", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("layout", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("newest", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("counted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("month"),
    )
    op.create_table(
        "stats_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("grouping", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("a", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("b", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("stats_counts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stats_counts_month"), ["month"], unique=False)
    op.create_index("ix_cases_created_updated", "cases", ["created_at", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_created_updated", table_name="cases")
    with op.batch_alter_table("stats_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stats_counts_month"))
    op.drop_table("stats_counts")
    op.drop_table("stats_months")
