"""Migrations: a fresh SQLite file or PostgreSQL schema comes up to the newest revision, twice."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from bot.core.db import make_engine
from bot.core.migrate import current, head, upgrade
from bot.core.settings import ROOT
from bot.models import OutboundMessage
from tests.conftest import POSTGRES_URL, _postgres_schema_url, service_missing

TABLES = {"alembic_version", "inbound_messages", "outbox", "delivery_reports"}


@contextmanager
def fresh_postgres() -> Iterator[Engine]:
    """An engine on a new, empty PostgreSQL schema, dropped after."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        service_missing("PostgreSQL", str(exc).splitlines()[0])
    made = make_engine(_postgres_schema_url(schema))
    try:
        yield made
    finally:
        made.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty database: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "postgres":
        with fresh_postgres() as made:
            yield made
        return
    made = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    yield made
    made.dispose()


def test_the_code_ships_one_head() -> None:
    assert head() is not None


def test_a_fresh_database_has_no_revision_until_upgraded(fresh: Engine) -> None:
    assert current(fresh) is None
    assert inspect(fresh).get_table_names() == []
    upgrade(fresh)
    assert current(fresh) == head()
    assert set(inspect(fresh).get_table_names()) >= TABLES


def test_upgrading_twice_is_harmless_and_keeps_the_data(fresh: Engine) -> None:
    upgrade(fresh)
    with Session(fresh) as session:
        session.add(
            OutboundMessage(
                key="k1", channel="sms", purpose="reply", contact="ph_x", body="b", lang="fr"
            )
        )
        session.commit()
    upgrade(fresh)
    assert current(fresh) == head()
    with Session(fresh) as session:
        assert [m.key for m in session.exec(select(OutboundMessage)).all()] == ["k1"]
    with fresh.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    assert [v[0] for v in versions] == [head()]


def test_app_processes_starting_together_on_postgres_upgrade_once() -> None:
    """Several app processes may start at once on PostgreSQL: the advisory lock serialises them.

    Processes, not threads: Alembic keeps its migration context in a module-level proxy, so
    upgrades from several threads of one process would share it.
    """
    with fresh_postgres() as fresh:
        _upgrade_in_processes(fresh, 2)
        assert current(fresh) == head()
        assert set(inspect(fresh).get_table_names()) >= TABLES


def _upgrade_in_processes(fresh: Engine, count: int) -> None:
    url = fresh.url.render_as_string(hide_password=False)
    code = (
        "import sys; from bot.core.db import make_engine; from bot.core.migrate import upgrade; "
        + ("upgrade(make_engine(sys.argv[1]))")
    )
    runs = [
        subprocess.Popen(  # noqa: S603 - our interpreter, our code, a test URL
            [sys.executable, "-c", code, url],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(count)
    ]
    for run in runs:
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err.decode()[-2000:]
