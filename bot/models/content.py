"""Flows and their translations as stored versions: published (immutable), a draft per flow, and
the generation counter other processes poll to learn of a publish (DESIGN §12)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.core.clock import utcnow


class FlowVersion(SQLModel, table=True):
    """One published version of a flow: its YAML and its translations, never changed again."""

    __tablename__ = "flow_version"
    __table_args__ = (
        sa.UniqueConstraint("flow", "number", name="uq_flow_version_number"),
        sa.Index("ix_flow_version_digest", "flow", "digest"),
    )

    id: int | None = Field(default=None, primary_key=True)
    flow: str = Field(max_length=64)
    number: int
    """1, 2, 3 … per flow."""
    source: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    """The flow's YAML, as written."""
    translations: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    """{lang: {English msgid: {"text", "status", "by", "at", "note"}}} for fr, ln, st."""
    digest: str = Field(max_length=64)
    """The version string a session keeps (``CompiledFlow.version``): a hash of the source, the
    areas data and the translations, so a running conversation finds this wording again."""
    published_by: str = Field(max_length=64)
    """An operator's username, or ``files`` for the version seeded from the repository."""
    published_at: datetime = Field(default_factory=utcnow)
    note: str = Field(default="", max_length=500)
    restored_from: int | None = None
    """The number this version restores (a rollback), else None."""


class FlowDraft(SQLModel, table=True):
    """The one draft of a flow: saved as typed (even when broken), moved on by one per save."""

    __tablename__ = "flow_draft"

    flow: str = Field(max_length=64, primary_key=True)
    revision: int = 1
    """+1 per save: a save naming an older revision is refused (a stale edit)."""
    base_number: int | None = None
    """The published number this draft started from (None for a flow never published)."""
    source: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    translations: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    updated_by: str | None = Field(default=None, max_length=64)
    updated_at: datetime | None = None


class ContentSignal(SQLModel, table=True):
    """One row: moved on by every publish and rollback; processes without Redis poll it."""

    __tablename__ = "content_signal"

    id: int = Field(default=1, primary_key=True)
    generation: int = 0
    updated_at: datetime = Field(default_factory=utcnow)
