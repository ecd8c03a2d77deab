"""A case: what someone reported or found in a screening, kept with care, and its timeline.

Free text (narrative, notes), answers and a phone number (only with consent to be contacted)
are encrypted; reading them is audited. Nothing here names the person.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bot.core.clock import utcnow


class Case(SQLModel, table=True):
    """One case in the referral queue."""

    __tablename__ = "cases"

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=12, unique=True)
    event_key: str = Field(max_length=160, unique=True)  # the same event twice: one case
    kind: str = Field(max_length=24)  # tip, screening, ambassador_report, callback_request
    channel: str = Field(max_length=16)
    lang: str = Field(max_length=8)
    area: str | None = Field(default=None, max_length=120)
    exploitation_type: str | None = Field(default=None, max_length=32)
    people_affected: int | None = None
    age_band: str | None = Field(default=None, max_length=16)
    minor: bool | None = None
    answers: str | None = Field(default=None, max_length=20000)  # encrypted JSON
    rule: str | None = Field(default=None, max_length=200)
    priority: str = Field(max_length=2, index=True)
    consent_contact: bool = False
    consent_refer: bool = False
    consent_police: bool = False
    safe_time: str | None = Field(default=None, max_length=512)  # encrypted
    contact: str | None = Field(default=None, max_length=40, index=True)  # pseudonym
    contact_phone: str | None = Field(default=None, max_length=512)  # encrypted, with consent only
    contact_phone_delete_after: datetime | None = None  # consent withdrawn: the grace's end
    narrative: str | None = Field(default=None, max_length=20000)  # encrypted
    status: str = Field(default="new", max_length=16, index=True)
    close_reason: str | None = Field(default=None, max_length=32)
    assignee_id: int | None = Field(default=None, foreign_key="operators.id")
    due_at: datetime = Field(index=True)  # triage target by priority
    acknowledged_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(  # bumped by every change, also one that forgets to set it
        default_factory=utcnow, sa_column_kwargs={"onupdate": utcnow}
    )
    closed_at: datetime | None = None
    anonymised_at: datetime | None = None


class CaseEvent(SQLModel, table=True):
    """One line of a case's timeline: who did what, when (no reported content)."""

    __tablename__ = "case_events"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    actor: str = Field(max_length=64)  # operator username, or "system"
    kind: str = Field(max_length=24)  # created, status, ack, claim, note, consent, alert, ...
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str | None = Field(default=None, max_length=16)
    detail: str | None = Field(default=None, max_length=300)


class CaseNote(SQLModel, table=True):
    """An operator's note on a case (encrypted)."""

    __tablename__ = "case_notes"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="operators.id")
    body: str = Field(max_length=20000)  # encrypted
    created_at: datetime = Field(default_factory=utcnow)
