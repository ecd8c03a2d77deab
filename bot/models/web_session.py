"""A team member signed in to the team web: kept server-side, found by a hash of its cookie."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bot.core.clock import utcnow


class WebSession(SQLModel, table=True):
    """One browser's sign-in; the cookie holds the id, this row only its SHA-256."""

    __tablename__ = "web_sessions"

    id: int | None = Field(default=None, primary_key=True)
    id_hash: str = Field(max_length=64, unique=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    epoch: int = 0
    """The operator's session epoch at sign-in: a later epoch (sign-out everywhere, a password
    change, a deactivation) ends this session too."""
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    """The absolute end, whatever the activity."""
