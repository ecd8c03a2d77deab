"""Shared fixtures: real services when present; in CI a missing service fails, never skips."""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import respx
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from bot.content.files import Content, load_content
from bot.core.settings import Settings
from tests.engine.conftest import CHECK, MAIN, build

ROOT = Path(__file__).resolve().parents[1]


def require_services() -> bool:
    """True when a missing Redis/PostgreSQL must fail the run (CI sets it), not skip."""
    return os.environ.get("HOTLINE_REQUIRE_SERVICES", "") not in ("", "0", "false")


def service_missing(what: str, detail: str) -> None:
    """Fail (in CI) or skip (on a laptop) a test whose service is not reachable."""
    message = f"{what} not reachable: {detail}"
    if require_services():
        pytest.fail(message + " (HOTLINE_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)


REDIS_URL = os.environ.get("HOTLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_URL = os.environ.get(
    "HOTLINE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


# Numbers used by tests: not real (+243 000… and +266 000… are unassigned ranges).
TEST_PHONES = ("+243000000001", "+243000000002", "+266000000003")


def _postgres_schema_url(schema: str) -> str:
    joiner = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{joiner}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: a SQLite file, or a fresh PostgreSQL schema dropped after."""
    from bot.core.db import make_engine
    from bot.core.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hotline.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        service_missing("PostgreSQL", str(exc).splitlines()[0])
    url = _postgres_schema_url(schema)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def database_text(engine: Engine) -> str:
    """Every value of every table, as text, to search for what must never be stored."""
    chunks: list[str] = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608
                chunks.extend(str(value) for value in row)
    return "\n".join(chunks)


def assert_no_phone_numbers(*texts: str, numbers: tuple[str, ...] = TEST_PHONES) -> None:
    """No test phone number, its digits, or its plain SHA-256 appears in the texts."""
    for number in numbers:
        digits = number.lstrip("+")
        plain_hashes = {hashlib.sha256(v.encode()).hexdigest() for v in (number, digits)}
        for blob in texts:
            assert digits not in blob, "a phone number was stored or logged in clear"
            for plain in plain_hashes:
                assert plain not in blob, "a phone number's plain SHA-256 was stored or logged"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the migrated test database, disposed after the test."""
    from bot.core.db import make_engine

    made = make_engine(database_url)
    try:
        yield made
    finally:
        made.dispose()


@pytest.fixture(scope="session")
def shipped_content() -> Content:
    """The shipped flows with the real catalogs, validated as the service loads them."""
    return load_content(ROOT / "flows", ROOT / "locales")


@pytest.fixture(scope="session")
def tagged_content() -> Content:
    """The engine test flows with the tagged catalog ("FR text", "LN text", ...)."""
    registry, catalogs = build(MAIN, CHECK)
    return Content(registry, catalogs)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No HOTLINE_* setting leaks in from the shell (service codes, language, number, token)."""
    for name in Settings.model_fields:
        monkeypatch.delenv(f"HOTLINE_{name.upper()}", raising=False)


@pytest.fixture(autouse=True)
def capture_everything(caplog: pytest.LogCaptureFixture) -> None:
    """Every log line at every level is captured, so tests can search it for ids and numbers."""
    caplog.set_level(logging.DEBUG)


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    """The Telegram Bot API, mocked with respx: nothing reaches the network."""
    with respx.mock(assert_all_called=False) as mocked:
        yield mocked
