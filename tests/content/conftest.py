"""Stored content: a database seeded from the shipped files, a clock.

The files are read once per process (``bot.content.seed.plan``); SQLite is seeded once per
process too, into a template each test copies; PostgreSQL is seeded per test into the session's
schema (emptied after every test).
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.content.seed import seed
from bot.core.db import make_engine
from tests.conftest import ROOT, PostgresSchema, migrated_sqlite, worker_id

SEEDED_AT = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)
NOW = SEEDED_AT + timedelta(hours=1)


def seed_shipped(engine: Engine) -> None:
    """Version 1 of every shipped flow, published by ``files`` at SEEDED_AT."""
    seed(engine, ROOT / "flows", ROOT / "locales", now=SEEDED_AT)


@functools.cache
def seeded_sqlite() -> Path:
    """A migrated SQLite file with the shipped flows seeded, made once per process."""
    folder = tempfile.mkdtemp(prefix=f"hotline-seeded-{worker_id()}-")
    atexit.register(shutil.rmtree, folder, True)
    path = Path(folder) / "hotline.db"
    shutil.copyfile(migrated_sqlite(), path)
    made = make_engine(f"sqlite:///{path}")
    try:
        seed_shipped(made)
    finally:
        made.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database (SQLite and PostgreSQL) holding version 1 of every shipped flow."""
    if request.param == "sqlite":
        path = tmp_path / "hotline.db"
        shutil.copyfile(seeded_sqlite(), path)
        made = make_engine(f"sqlite:///{path}")
        try:
            yield made
        finally:
            made.dispose()
        return
    schema: PostgresSchema = request.getfixturevalue("postgres_schema")
    made = make_engine(schema.url)
    try:
        seed_shipped(made)
        yield made
    finally:
        made.dispose()
        schema.reset()


@pytest.fixture
def db(seeded: Engine) -> Iterator[Session]:
    """A session on the seeded database."""
    with Session(seeded) as session:
        yield session
