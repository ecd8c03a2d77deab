"""A referral of a case to a service (after Primero): in_progress → accepted → done, or not."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bot.core.clock import utcnow


class Referral(SQLModel, table=True):
    """One referral, with consent or a supervisor's recorded override."""

    __tablename__ = "referrals"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    service_id: int = Field(foreign_key="services.id")
    status: str = Field(default="in_progress", max_length=16)
    reason: str | None = Field(default=None, max_length=300)  # rejection or outcome reason
    outcome: str | None = Field(default=None, max_length=16)  # successful, not_successful
    override_by: int | None = Field(default=None, foreign_key="operators.id")
    override_reason: str | None = Field(default=None, max_length=300)
    created_by: int | None = Field(default=None, foreign_key="operators.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
