"""Shared fixtures: real services when present; in CI a missing service fails, never skips."""

from __future__ import annotations

import atexit
import fcntl
import functools
import hashlib
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import respx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from bot.content.files import Content, load_content
from bot.core.privacy import new_key
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


def reachable_redis() -> str:
    """The test Redis, or fail (CI) / skip when it does not answer."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2.0)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        service_missing("Redis", f"{REDIS_URL}: {exc}")
    finally:
        client.close()
    return REDIS_URL


def _postgres_schema_url(schema: str) -> str:
    joiner = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{joiner}options=-csearch_path%3D{schema}"


@pytest.fixture(autouse=True)
def one_arq_test_at_a_time(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests on arq's fixed keys (``arq:queue`` in their own Redis database) take a lock, so that
    xdist workers (or another run on this machine) never share the queue at the same time."""
    if "arq_url" not in request.fixturenames:
        yield
        return
    with open(Path(tempfile.gettempdir()) / "hotline-tests-arq.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def worker_id() -> str:
    """This pytest-xdist worker ("gw0", ...), or "main" without xdist: names per-worker things."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@functools.cache
def migrated_sqlite() -> Path:
    """One SQLite file migrated once per process (per xdist worker); tests get copies of it."""
    from bot.core.db import make_engine
    from bot.core.migrate import upgrade

    folder = tempfile.mkdtemp(prefix=f"hotline-template-{worker_id()}-")
    atexit.register(shutil.rmtree, folder, True)
    path = Path(folder) / "hotline.db"
    made = make_engine(f"sqlite:///{path}")
    try:
        upgrade(made)
    finally:
        made.dispose()
    return path


def sqlite_copy(path: Path) -> str:
    """A migrated, empty SQLite database at ``path`` (a copy of the template); its URL."""
    shutil.copyfile(migrated_sqlite(), path)
    return f"sqlite:///{path}"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated, empty SQLite database of this test's own."""
    return sqlite_copy(tmp_path / "hotline.db")


class PostgresSchema:
    """One PostgreSQL schema migrated once per session (per xdist worker), emptied after each
    test: the tables a test wrote to (rows, or an id drawn) are truncated and their ids restarted;
    Alembic's version table stays."""

    def __init__(self) -> None:
        from bot.core.db import make_engine

        self.admin = make_engine(POSTGRES_URL)
        self.schema = ""
        self.tables: list[str] = []
        self.dirty_query = ""

    @property
    def url(self) -> str:
        return _postgres_schema_url(self.schema)

    def create(self) -> None:
        """A new schema, migrated to the newest revision."""
        from bot.core.db import make_engine
        from bot.core.migrate import upgrade

        self.schema = f"test_{worker_id()}_{uuid.uuid4().hex[:12]}"
        with self.admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        made = make_engine(self.url)
        try:
            upgrade(made)
            names = inspect(made).get_table_names()
        finally:
            made.dispose()
        self.tables = [name for name in names if name != "alembic_version"]
        with self.admin.connect() as connection:
            owned = connection.execute(
                text(
                    "SELECT t.relname, s.relname FROM pg_class s"
                    " JOIN pg_namespace n ON n.oid = s.relnamespace"
                    " JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')"
                    " JOIN pg_class t ON t.oid = d.refobjid"
                    " WHERE s.relkind = 'S' AND n.nspname = :schema"
                ),
                {"schema": self.schema},
            ).all()
        sequences: dict[str, list[str]] = {}
        for table, sequence in owned:
            sequences.setdefault(table, []).append(sequence)
        checks = []
        for table in self.tables:
            # Names from the catalog of the schema just migrated, not from input.
            drawn = [
                f'(SELECT is_called FROM "{self.schema}"."{s}")'  # noqa: S608
                for s in sequences.get(table, [])
            ]
            rows = f'EXISTS (SELECT 1 FROM "{self.schema}"."{table}")'  # noqa: S608
            checks.append(f"SELECT '{table}' WHERE {' OR '.join([rows, *drawn])}")
        self.dirty_query = " UNION ALL ".join(checks)

    def drop(self) -> None:
        if self.schema:
            with self.admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            self.schema = ""

    def reset(self) -> None:
        """Empty every table as a fresh schema would be; if that cannot be done quickly (a lock
        left behind by the test), start over on a new schema."""
        try:
            with self.admin.begin() as connection:
                connection.execute(text("SET LOCAL lock_timeout = '5s'"))
                dirty = connection.execute(text(self.dirty_query)).scalars().all()
                if dirty:
                    listed = ", ".join(f'"{self.schema}"."{name}"' for name in dirty)
                    connection.execute(text(f"TRUNCATE {listed} RESTART IDENTITY CASCADE"))
        except OperationalError:
            logging.getLogger(__name__).warning("test schema locked: starting a new one")
            self.drop()
            self.create()

    def close(self) -> None:
        try:
            self.drop()
        finally:
            self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[PostgresSchema]:
    """The session's migrated PostgreSQL schema (fails in CI, skips elsewhere, if absent)."""
    made = PostgresSchema()
    try:
        made.create()
    except OperationalError as exc:
        made.admin.dispose()
        service_missing("PostgreSQL", str(exc).splitlines()[0])
    try:
        yield made
    finally:
        made.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated, empty database of this test's own: a copy of the session's migrated SQLite
    file, or the session's PostgreSQL schema, emptied after the test (Alembic's version table
    stays, so the app's auto-migration finds nothing to do)."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_url")
        return
    schema: PostgresSchema = request.getfixturevalue("postgres_schema")
    try:
        yield schema.url
    finally:
        schema.reset()


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


@functools.cache
def shipped() -> Content:
    """The shipped flows with the real catalogs, loaded and validated once per process."""
    return load_content(ROOT / "flows", ROOT / "locales")


@pytest.fixture(scope="session")
def shipped_content() -> Content:
    """The shipped flows with the real catalogs, validated as the service loads them."""
    return shipped()


@pytest.fixture(scope="session")
def tagged_content() -> Content:
    """The engine test flows with the tagged catalog ("FR text", "LN text", ...)."""
    registry, catalogs = build(MAIN, CHECK)
    return Content(registry, catalogs)


CALLBACK_TOKEN = "t0k3n-for-tests"
WEBHOOK_SECRET = "telegram-secret-for-tests"
PSEUDONYM_KEY = "k" * 32


def make_settings(tmp_path: Path, *, secrets: bool = True, **overrides: Any) -> Settings:
    """Settings for one test, every file in ``tmp_path``: a migrated SQLite database of its own
    (unless ``database_url`` is given), sessions in process, and fixed test secrets (none with
    ``secrets=False``: the app generates them, or refuses in production)."""
    values: dict[str, Any] = {"redis_url": None, "secrets_file": tmp_path / "secrets.json"}
    if secrets:
        values.update(
            callback_token=CALLBACK_TOKEN,
            pseudonym_key=PSEUDONYM_KEY,
            encryption_keys=new_key(),
            telegram_webhook_secret=WEBHOOK_SECRET,
        )
    values.update(overrides)
    if "database_url" not in values:
        values["database_url"] = sqlite_copy(tmp_path / "hotline.db")
    return Settings(**values)


def make_app(settings: Settings, content: Content | None = None) -> FastAPI:
    """``create_app`` on the session's shipped content (or the content given): nothing is
    loaded again. For content a test changes on disk, call ``create_app`` itself."""
    from bot.app import create_app  # here: engine-only runs need not import the whole app

    return create_app(settings, content=content or shipped())


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    """The app on the embedded default (generated secrets), its files in tmp_path."""
    return make_app(make_settings(tmp_path, secrets=False))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """The app started and stopped like uvicorn would."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No HOTLINE_* setting leaks in from the shell (service codes, language, number, token)."""
    for name in Settings.model_fields:
        monkeypatch.delenv(f"HOTLINE_{name.upper()}", raising=False)


@pytest.fixture
def in_tmp_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The working directory is tmp_path (relative files, e.g. generated secrets, land there)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(autouse=True)
def capture_everything(caplog: pytest.LogCaptureFixture) -> None:
    """Every log line at every level is captured, so tests can search it for ids and numbers."""
    caplog.set_level(logging.DEBUG)


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    """The Telegram Bot API, mocked with respx: nothing reaches the network."""
    with respx.mock(assert_all_called=False) as mocked:
        yield mocked
