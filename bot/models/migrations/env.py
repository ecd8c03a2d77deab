"""Alembic environment: runs on the connection ``bot.core.migrate`` hands over (SQLite or PG)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text
from sqlmodel import SQLModel

import bot.models  # noqa: F401 - registers every table on the metadata

MIGRATION_LOCK = 727274  # PostgreSQL advisory lock: app processes starting together upgrade once

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
    compare_type=True,
)
with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
    context.run_migrations()
