"""One-time codes a partner service replies with to confirm a referral by SMS (kept hashed)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bot.core.clock import utcnow


class PartnerCode(SQLModel, table=True):
    """A code sent to a service's phone for one referral: ACCEPT or DECLINE, later DONE."""

    __tablename__ = "partner_codes"

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referrals.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)  # HMAC of the code, never the code
    contact: str = Field(max_length=40, index=True)  # pseudonym of the phone it was sent to
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None  # spent: declined or done (nothing further)
