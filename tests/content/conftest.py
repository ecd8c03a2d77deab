"""Stored content: a database seeded from the shipped files (read once per process), a clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.content.seed import seed
from tests.conftest import ROOT

SEEDED_AT = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)
NOW = SEEDED_AT + timedelta(hours=1)


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    """A migrated database (SQLite and PostgreSQL) holding version 1 of every shipped flow."""
    seed(engine, ROOT / "flows", ROOT / "locales", now=SEEDED_AT)
    return engine


@pytest.fixture
def db(seeded: Engine) -> Iterator[Session]:
    """A session on the seeded database."""
    with Session(seeded) as session:
        yield session
