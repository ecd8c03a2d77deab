"""outbox submitted_at (an attempt's provider call began), worker heartbeats

Revision ID: 0004_worker_faults
Revises: 0003_telegram
Create Date: 2026-12-06 02:30:00.000000

A message left ``sending`` by the code before this revision may have reached the provider (the
old code did not say): it is taken as submitted, so a message sent at most once is not sent
again after the upgrade but marked ``unknown`` once its lease has passed.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0004_worker_faults"
down_revision = "0003_telegram"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("submitted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    op.execute(
        "UPDATE outbox SET submitted_at = COALESCE(claimed_until, created_at)"
        " WHERE status = 'sending'"
    )
    op.create_table(
        "worker_heartbeats",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("redis", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("worker_heartbeats", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worker_heartbeats_seen_at"), ["seen_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("worker_heartbeats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_heartbeats_seen_at"))
    op.drop_table("worker_heartbeats")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("submitted_at")
