"""The service directory: who can help, where, for whom."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from bot.core.clock import utcnow


class Service(SQLModel, table=True):
    """A service people can be referred to."""

    __tablename__ = "services"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    organisation: str = Field(max_length=200)
    service_type: str = Field(max_length=32, index=True)
    areas: str = Field(max_length=1000)  # comma-separated areas served
    phones: str = Field(default="", max_length=200)  # public service numbers
    hours: str = Field(default="", max_length=200)
    languages: str = Field(default="", max_length=50)  # comma-separated: en,fr,ln,st
    min_age: int | None = None
    max_age: int | None = None
    genders: str = Field(default="any", max_length=32)  # any, female, male
    status: str = Field(default="active", max_length=16)  # active, paused, closed
    last_verified: date | None = None
    demo: bool = False
    updated_at: datetime = Field(default_factory=utcnow)
