"""The hotline team and the on-call rota."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bot.core.clock import utcnow


class Operator(SQLModel, table=True):
    """A member of the hotline team: operator, supervisor or admin."""

    __tablename__ = "operators"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=120)
    role: str = Field(max_length=16)  # operator, supervisor, admin
    password_hash: str | None = Field(default=None, max_length=256)  # argon2id
    phone: str | None = Field(default=None, max_length=512)  # encrypted, for on-call alerts
    phone_contact: str | None = Field(default=None, max_length=40, index=True)
    """Pseudonym of ``phone`` (``bot.cases.sms_commands``): recognises the operator's SMS."""
    telegram_contact: str | None = Field(default=None, max_length=40)  # pseudonym, once linked
    telegram_chat: str | None = Field(default=None, max_length=512)  # encrypted chat id, alerts
    lang: str = Field(default="en", max_length=8)
    active: bool = True
    session_epoch: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    """Moved on by sign-out, a password change and deactivation: ends every earlier token."""
    demo: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class Shift(SQLModel, table=True):
    """Who is on call between two times: a primary, a backup and a supervisor."""

    __tablename__ = "shifts"

    id: int | None = Field(default=None, primary_key=True)
    starts_at: datetime = Field(index=True)
    ends_at: datetime = Field(index=True)
    primary_id: int = Field(foreign_key="operators.id")
    backup_id: int | None = Field(default=None, foreign_key="operators.id")
    supervisor_id: int | None = Field(default=None, foreign_key="operators.id")
    demo: bool = False
