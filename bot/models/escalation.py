"""Alert deadlines as rows (not sleeps): they survive restarts and any worker can act on them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from bot.core.clock import utcnow


class Escalation(SQLModel, table=True):
    """One alert of a case to one person at one level; unacknowledged by ``due_at``: the next."""

    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("case_id", "level", name="uq_escalation_level"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    level: int  # 0 primary, 1 backup, 2 supervisor
    operator_id: int | None = Field(default=None, foreign_key="operators.id")
    reason: str = Field(max_length=32)  # new_p1, overdue
    notified_at: datetime = Field(default_factory=utcnow)
    due_at: datetime = Field(index=True)
    acknowledged_at: datetime | None = None
    done: bool = Field(default=False, index=True)  # acknowledged, or the next level took over
