"""operators.session_epoch: sign-out, password change and deactivation end earlier tokens

Revision ID: 0005_session_epoch
Revises: 0004_worker_faults
Create Date: 2026-12-06 02:20:00.000000

Existing operators start at epoch 0, which signs tokens as before: nobody is signed out by the
upgrade itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_session_epoch"
down_revision = "0004_worker_faults"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.drop_column("session_epoch")
