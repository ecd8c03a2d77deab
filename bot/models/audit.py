"""Who read or changed what, and why: every decrypting view and every change of a case."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bot.core.clock import utcnow


class AuditEntry(SQLModel, table=True):
    """One audited action."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=32)  # view_case, decrypt, status, rotate_keys, purge, ...
    case_id: int | None = Field(default=None, index=True)
    reason: str | None = Field(default=None, max_length=300)
