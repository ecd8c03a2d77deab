"""The SQL engine: SQLite (WAL, busy timeout) for the embedded default, PostgreSQL by URL.

Database errors never carry their statement's parameters (``hide_parameters``): an error's
message is logged, and parameters are what people typed (a password, a narrative).

Each engine made here has its own ``DatabaseThreads`` (``threads_for``), sized to it, for the
database work of requests a person waits on: see ``bot.core.concurrency``.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import create_engine

from bot.core.concurrency import DatabaseThreads
from bot.core.settings import Settings

SQLITE_BUSY_TIMEOUT_MS = 5000
MAX_AUTO_THREADS = 4
"""PostgreSQL: threads by default, at most (``HOTLINE_DB_THREADS`` says otherwise). More do not
add CPU (one interpreter lock) and fight the event loop for it."""


@dataclass(frozen=True)
class DatabaseOptions:
    """The connection pool and the request threads (``HOTLINE_DB_*``)."""

    pool_size: int = 5
    max_overflow: int = 10
    pool_timeout: float = 30.0
    threads: int = 0  # 0: 1 on SQLite, else min(pool_size, MAX_AUTO_THREADS)
    queue_wait: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> DatabaseOptions:
        """The options the settings ask for."""
        return cls(
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout,
            threads=settings.db_threads,
            queue_wait=settings.db_queue_wait,
        )


_THREADS: weakref.WeakKeyDictionary[Engine, DatabaseThreads] = weakref.WeakKeyDictionary()


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, options: DatabaseOptions | None = None) -> Engine:
    """Create the engine; SQLite connections get WAL, a busy timeout and foreign keys."""
    options = options or DatabaseOptions()
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        threads = options.threads or 1
    else:
        # A database that drops packets must not hold a request for the OS's TCP timeout.
        connect_args = {} if "connect_timeout=" in url else {"connect_timeout": 5}
        engine = create_engine(
            url,
            pool_pre_ping=True,
            pool_size=options.pool_size,
            max_overflow=options.max_overflow,
            pool_timeout=options.pool_timeout,
            connect_args=connect_args,
            hide_parameters=True,
        )
        threads = options.threads or min(options.pool_size, MAX_AUTO_THREADS)
    _THREADS[engine] = DatabaseThreads(threads, options.queue_wait)
    return engine


def engine_for(settings: Settings) -> Engine:
    """The engine of the settings' database, with their pool and threads (``HOTLINE_DB_*``)."""
    return make_engine(settings.database_url, DatabaseOptions.from_settings(settings))


def threads_for(engine: Engine) -> DatabaseThreads:
    """The request threads of an engine (defaults for an engine not made by ``make_engine``)."""
    found = _THREADS.get(engine)
    if found is None:
        sqlite = engine.dialect.name == "sqlite"
        found = _THREADS[engine] = DatabaseThreads(
            1 if sqlite else MAX_AUTO_THREADS, DatabaseOptions.queue_wait
        )
    return found


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def ping(engine: Engine) -> bool:
    """True when the database answers a trivial query."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True
