"""cases.contact_phone_delete_after: a withdrawn contact consent keeps the number for a grace

Revision ID: 0006_consent_grace
Revises: 0005_session_epoch
Create Date: 2026-12-06 03:00:00.000000

Withdrawing consent to be contacted no longer deletes the number at once: it is marked for
deletion after ``HOTLINE_CONSENT_WITHDRAW_GRACE_DAYS`` (a supervisor may restore the consent
meanwhile) and retention deletes it then. Existing rows start unmarked.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0006_consent_grace"
down_revision = "0005_session_epoch"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "contact_phone_delete_after", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("contact_phone_delete_after")
