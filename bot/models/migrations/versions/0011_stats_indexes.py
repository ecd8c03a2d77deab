"""statistics: escalations, referrals and outbox messages indexed by when they were made

Revision ID: 0011_stats_indexes
Revises: 0010_flow_versions
Create Date: 2026-12-06 07:10:00.000000

``bench/stats.py`` (1,000,000 cases over three years in PostgreSQL): the service figures count
a period's escalations, referrals and outbox messages by their time; each was a sequential
scan of its table (170-260 ms), now an index scan (40-95 ms). Cases are counted through the
existing ``cases.created_at`` index; a covering index (INCLUDE the counted columns) and a
partial index of triage events were tried and not chosen by the planner, so they are not here.
"""

from __future__ import annotations

from alembic import op

revision = "0011_stats_indexes"
down_revision = "0010_flow_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_escalations_notified_at", "escalations", ["notified_at"])
    op.create_index("ix_referrals_created_at", "referrals", ["created_at"])
    op.create_index("ix_outbox_created_at", "outbox", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_created_at", table_name="outbox")
    op.drop_index("ix_referrals_created_at", table_name="referrals")
    op.drop_index("ix_escalations_notified_at", table_name="escalations")
