"""On call by SMS: operators.phone_contact (pseudonym of the on-call phone), partner_codes

Revision ID: 0009_oncall_sms
Revises: 0008_queue_indexes
Create Date: 2026-12-06 07:00:00.000000

An operator's reply by SMS is recognised by the pseudonym of their on-call phone (filled in
from the encrypted phone when first needed: existing rows start empty). A partner service
confirms a referral by replying with a one-time code, kept as a keyed hash with the pseudonym
of the phone it was sent to.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0009_oncall_sms"
down_revision = "0008_queue_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("phone_contact", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_operators_phone_contact"), ["phone_contact"], unique=False
        )
    op.create_table(
        "partner_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("contact", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    with op.batch_alter_table("partner_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partner_codes_referral_id"), ["referral_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_partner_codes_contact"), ["contact"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("partner_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_codes_contact"))
        batch_op.drop_index(batch_op.f("ix_partner_codes_referral_id"))
    op.drop_table("partner_codes")
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operators_phone_contact"))
        batch_op.drop_column("phone_contact")
