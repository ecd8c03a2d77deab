"""Migrant ambassadors on Telegram and the single-use invites that register them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bot.core.clock import utcnow


class Invite(SQLModel, table=True):
    """A single-use invite code an admin hands to a trained ambassador (kept hashed)."""

    __tablename__ = "invites"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True)  # HMAC of the code: never the code
    area: str | None = Field(default=None, max_length=80)  # area code the ambassador covers
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class Ambassador(SQLModel, table=True):
    """A registered ambassador: a Telegram pseudonym, never the Telegram id."""

    __tablename__ = "ambassadors"

    id: int | None = Field(default=None, primary_key=True)
    contact: str = Field(max_length=40, unique=True)  # pseudonym of the Telegram user
    area: str | None = Field(default=None, max_length=80)
    invite_id: int | None = Field(default=None, foreign_key="invites.id")
    active: bool = True
    registered_at: datetime = Field(default_factory=utcnow)


class OperatorLink(SQLModel, table=True):
    """A one-time code an operator types in Telegram (``/link CODE``) to get alerts there."""

    __tablename__ = "operator_links"

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
