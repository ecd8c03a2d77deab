"""cases: partial indexes on open cases for the queue (most urgent first) and its area filter

Revision ID: 0008_queue_indexes
Revises: 0007_web_sessions
Create Date: 2026-12-06 04:10:00.000000

The queue lists open cases by priority, then due time, the first 200; with 100,000 cases of
which 10,000 open, PostgreSQL read the priority index and filtered out the closed ones (173 ms
cold). An index of open cases only, in the queue's order, reads just the rows shown (0.6 ms);
another on their area answers the area filter's choices from the index (bench/team_web.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_queue_indexes"
down_revision = "0007_web_sessions"
branch_labels = None
depends_on = None

OPEN = sa.text("status <> 'closed' AND anonymised_at IS NULL")
"""What the queue counts as open (``bot.cases.queue``); the planner uses a partial index only
when the query's condition implies this one."""


def upgrade() -> None:
    op.create_index(
        "ix_cases_open_queue",
        "cases",
        ["priority", "due_at", "id"],
        postgresql_where=OPEN,
        sqlite_where=OPEN,
    )
    op.create_index(
        "ix_cases_open_area", "cases", ["area"], postgresql_where=OPEN, sqlite_where=OPEN
    )


def downgrade() -> None:
    op.drop_index("ix_cases_open_area", table_name="cases")
    op.drop_index("ix_cases_open_queue", table_name="cases")
