"""The statistics roll-up: each month's case counts as last counted, so a year is a read of a
few hundred rows instead of a count of its cases (``bot.stats.rollup`` keeps it true).

Counts here are raw (not suppressed): they are never shown as they are; every figure read from
them goes through ``bot.stats.suppression`` like any other.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class StatsMonth(SQLModel, table=True):
    """A month whose cases are counted in ``stats_counts``, and what they were when counted."""

    __tablename__ = "stats_months"

    month: str = Field(primary_key=True, max_length=7)  # 2026-03
    layout: int  # bot.stats.rollup.LAYOUT when counted: another layout is counted again
    cases: int  # the month's cases then
    newest: datetime | None = None  # the latest updated_at among them then
    counted_at: datetime


class StatsCount(SQLModel, table=True):
    """How many of a month's cases have one value (or pair) of one grouping."""

    __tablename__ = "stats_counts"

    id: int | None = Field(default=None, primary_key=True)
    month: str = Field(max_length=7, index=True)
    grouping: str = Field(max_length=16)  # area, type, kind, channel, language, priority, ack…
    a: str = Field(default="", max_length=120)  # "" for none
    b: str = Field(default="", max_length=16)
    cases: int
