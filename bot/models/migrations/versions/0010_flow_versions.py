"""flows and their translations as versions: published versions, a draft per flow, a signal

Revision ID: 0010_flow_versions
Revises: 0009_oncall_sms
Create Date: 2026-12-06 06:35:00.000000

The files in flows/ and locales/ become version 1 of each flow at first start
(``bot.content.seed``), not here: a migration does not read the repository's content.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0010_flow_versions"
down_revision = "0009_oncall_sms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "content_signal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "flow_draft",
        sa.Column("flow", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("base_number", sa.Integer(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("translations", sa.JSON(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("flow"),
    )
    op.create_table(
        "flow_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flow", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("translations", sa.JSON(), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("published_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("published_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("flow", "number", name="uq_flow_version_number"),
    )
    op.create_index("ix_flow_version_digest", "flow_version", ["flow", "digest"])


def downgrade() -> None:
    op.drop_index("ix_flow_version_digest", table_name="flow_version")
    op.drop_table("flow_version")
    op.drop_table("flow_draft")
    op.drop_table("content_signal")
