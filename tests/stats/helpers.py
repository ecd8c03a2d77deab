"""Cases for statistics tests: rows written straight to the table (only what figures read)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.models import Case

_serial = itertools.count()


def add_cases(engine: Engine, n: int, *, at: datetime, **fields: Any) -> None:
    """``n`` cases created at ``at`` with ``fields`` (defaults: a P3 tip by USSD in French)."""
    rows = []
    for _ in range(n):
        i = next(_serial)
        rows.append(
            {
                "reference": f"T{i:06d}"[-7:],
                "event_key": f"stats-test:{i}",
                "kind": "tip",
                "channel": "ussd",
                "lang": "fr",
                "priority": "P3",
                "status": "closed",
                "due_at": at,
                "created_at": at,
                "updated_at": at,
                **fields,
            }
        )
    with Session(engine) as session:
        session.execute(insert(Case), rows)
        session.commit()


MARCH = datetime(2026, 3, 10, 12, tzinfo=UTC)
APRIL = datetime(2026, 4, 10, 12, tzinfo=UTC)
JULY = datetime(2026, 7, 10, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
