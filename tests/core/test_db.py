"""The SQL engine: SQLite tuned for the embedded default, PostgreSQL by URL, and a health ping."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import QueuePool

from bot.core.db import (
    SQLITE_BUSY_TIMEOUT_MS,
    engine_for,
    make_engine,
    normalise_url,
    ping,
    threads_for,
)
from bot.core.settings import Settings
from tests.conftest import POSTGRES_URL, service_missing

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=1"


def database_url(kind: str, tmp_path: Path) -> str:
    """A URL for the backend under test; fails (CI) or skips when PostgreSQL is not there."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'hotline.db'}"
    probe = make_engine(POSTGRES_URL)
    try:
        reachable = ping(probe)
    finally:
        probe.dispose()
    if not reachable:
        service_missing("PostgreSQL", POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on each backend in turn."""
    made = make_engine(database_url(request.param, tmp_path))
    yield made
    made.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """The embedded default's engine on a file in tmp_path."""
    made = make_engine(f"sqlite:///{tmp_path / 'hotline.db'}")
    yield made
    made.dispose()


def test_ping_answers_true(engine: Engine) -> None:
    """A reachable database is healthy."""
    assert ping(engine) is True


def test_data_written_is_read_back(engine: Engine) -> None:
    """The engine really talks to the database (a temporary table, gone afterwards)."""
    with engine.connect() as connection:
        connection.execute(text("CREATE TEMPORARY TABLE probe (id INTEGER PRIMARY KEY, v TEXT)"))
        connection.execute(text("INSERT INTO probe (id, v) VALUES (1, 'Mbote')"))
        assert connection.execute(text("SELECT v FROM probe WHERE id = 1")).scalar_one() == "Mbote"


def test_sqlite_uses_wal_busy_timeout_and_foreign_keys(sqlite_engine: Engine) -> None:
    """Concurrent readers and a writer do not fail at once; references are enforced."""
    with sqlite_engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar_one() == 5000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    assert SQLITE_BUSY_TIMEOUT_MS == 5000


def test_sqlite_pragmas_apply_to_every_new_connection(sqlite_engine: Engine) -> None:
    """After the pool is emptied, fresh connections get the same settings."""
    with sqlite_engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    sqlite_engine.dispose()
    with sqlite_engine.connect() as first, sqlite_engine.connect() as second:
        for connection in (first, second):
            assert connection.execute(text("PRAGMA busy_timeout")).scalar_one() == 5000
            assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1


def test_sqlite_refuses_a_row_pointing_at_nothing(sqlite_engine: Engine) -> None:
    """A referral to a case that does not exist is refused, not stored as an orphan."""
    with sqlite_engine.begin() as connection:
        connection.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        connection.execute(
            text("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent)")
        )
    with pytest.raises(IntegrityError), sqlite_engine.begin() as connection:
        connection.execute(text("INSERT INTO child (id, parent_id) VALUES (1, 42)"))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@db:5432/hotline", "postgresql+psycopg://u@db:5432/hotline"),
        ("postgres://u@db/hotline", "postgresql+psycopg://u@db/hotline"),
        ("postgresql+psycopg://u@db/hotline", "postgresql+psycopg://u@db/hotline"),
        ("sqlite:///hotline.db", "sqlite:///hotline.db"),
    ],
)
def test_normalise_url_picks_psycopg3(url: str, expected: str) -> None:
    """A plain URL as hosting providers give it uses the installed psycopg 3 driver."""
    assert normalise_url(url) == expected


def test_plain_postgresql_url_gets_the_psycopg_driver() -> None:
    """No psycopg2 is installed; the engine must not ask for it."""
    made = make_engine("postgresql://postgres@127.0.0.1:1/nothing")
    try:
        assert made.dialect.driver == "psycopg"
    finally:
        made.dispose()


def test_plain_postgresql_url_connects(tmp_path: Path) -> None:
    """HOTLINE_DATABASE_URL=postgresql://... works as given."""
    url = database_url("postgresql", tmp_path)
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    made = make_engine(plain)
    try:
        assert ping(made) is True
    finally:
        made.dispose()


def test_ping_is_false_when_the_database_is_down() -> None:
    """An unreachable database reports unhealthy instead of raising."""
    made = make_engine(UNREACHABLE)
    try:
        assert ping(made) is False
    finally:
        made.dispose()


def test_ping_is_false_for_an_unusable_sqlite_file(tmp_path: Path) -> None:
    """A database path that cannot be opened reports unhealthy."""
    made = make_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'hotline.db'}")
    try:
        assert ping(made) is False
    finally:
        made.dispose()


def test_database_errors_never_carry_their_parameters(engine: Engine) -> None:
    """A failing statement's error (which gets logged) names no value a person sent."""
    secret = "a password typed at sign-in"
    with pytest.raises(Exception) as failed, engine.connect() as connection:
        connection.execute(text("SELECT * FROM no_such_table WHERE x = :x"), {"x": secret})
    assert secret not in str(failed.value)
    assert "hidden due to hide_parameters" in str(failed.value)


def test_the_pool_and_the_request_threads_come_from_the_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in {
        "DATABASE_URL": UNREACHABLE,  # nothing connects: the engine is made, not used
        "DB_POOL_SIZE": "3",
        "DB_MAX_OVERFLOW": "1",
        "DB_POOL_TIMEOUT": "2.5",
        "DB_QUEUE_WAIT": "4",
    }.items():
        monkeypatch.setenv(f"HOTLINE_{name}", value)
    engine = engine_for(Settings())
    try:
        pool = cast(QueuePool, engine.pool)
        assert (pool.size(), pool._max_overflow, pool._timeout) == (3, 1, 2.5)
        threads = threads_for(engine)
        assert (threads.threads, threads.max_wait) == (3, 4.0)  # min(pool size, 4)
    finally:
        engine.dispose()
    monkeypatch.setenv("HOTLINE_DB_THREADS", "2")
    engine = engine_for(Settings())
    assert threads_for(engine).threads == 2
    engine.dispose()
    sqlite = make_engine(f"sqlite:///{tmp_path / 'hotline.db'}")
    assert threads_for(sqlite).threads == 1  # SQLite writes one at a time anyway
    sqlite.dispose()
