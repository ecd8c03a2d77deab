"""The fixed periods figures are asked for: a calendar month, quarter or year (UTC).

Written ``2026-03``, ``2026-Q1`` and ``2026``; nothing finer (a day or a week of cases is
too small a group to show). Each month, quarter and year is a node of the year's time tree
(``bot.stats.cube``): every period of a year is cut from one set of suppressed tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from bot.stats.cube import ROOT, Dimension

Kind = Literal["month", "quarter", "year"]
_FORMS = re.compile(r"^(\d{4})(?:-(\d{2})|-Q([1-4]))?$")


class BadPeriod(ValueError):
    """Not one of the period forms (2026-03, 2026-Q1, 2026)."""


def month_node(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def quarter_node(year: int, quarter: int) -> str:
    return f"{year:04d}-Q{quarter}"


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month, quarter or year."""

    year: int
    kind: Kind
    number: int = 0
    """The month (1-12) or the quarter (1-4); 0 for a year."""

    @classmethod
    def parse(cls, text: str) -> Period:
        """``2026-03``, ``2026-Q1`` or ``2026``."""
        found = _FORMS.match(text.strip().upper())
        if not found or not 2000 <= int(found.group(1)) <= 2999:
            raise BadPeriod(f"{text!r} is not a period: write 2026-03, 2026-Q1 or 2026")
        year = int(found.group(1))
        if found.group(2):
            month = int(found.group(2))
            if not 1 <= month <= 12:
                raise BadPeriod(f"{text!r}: no month {month}")
            return cls(year, "month", month)
        if found.group(3):
            return cls(year, "quarter", int(found.group(3)))
        return cls(year, "year")

    @classmethod
    def month_of(cls, day: date) -> Period:
        return cls(day.year, "month", day.month)

    def __str__(self) -> str:
        return self.node if self.kind != "year" else str(self.year)

    @property
    def node(self) -> str:
        """This period's node in its year's time tree (the year is the root)."""
        if self.kind == "month":
            return month_node(self.year, self.number)
        if self.kind == "quarter":
            return quarter_node(self.year, self.number)
        return ROOT

    def months(self) -> list[int]:
        """The months it covers (1-12)."""
        if self.kind == "month":
            return [self.number]
        if self.kind == "quarter":
            first = 3 * (self.number - 1) + 1
            return [first, first + 1, first + 2]
        return list(range(1, 13))

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) in UTC."""
        months = self.months()
        start = datetime(self.year, months[0], 1, tzinfo=UTC)
        last = months[-1]
        end = (
            datetime(self.year + 1, 1, 1, tzinfo=UTC)
            if last == 12
            else datetime(self.year, last + 1, 1, tzinfo=UTC)
        )
        return start, end

    def previous(self) -> Period:
        if self.kind == "month":
            return Period(self.year - (self.number == 1), "month", (self.number - 2) % 12 + 1)
        if self.kind == "quarter":
            return Period(self.year - (self.number == 1), "quarter", (self.number - 2) % 4 + 1)
        return Period(self.year - 1, "year")

    def next(self) -> Period:
        if self.kind == "month":
            return Period(self.year + (self.number == 12), "month", self.number % 12 + 1)
        if self.kind == "quarter":
            return Period(self.year + (self.number == 4), "quarter", self.number % 4 + 1)
        return Period(self.year + 1, "year")

    def started_by(self, now: datetime) -> bool:
        """Has the period begun by ``now``? (Figures of the future are not offered.)"""
        return self.bounds()[0] <= now


def time_dimension(year: int) -> Dimension:
    """The year's months under its quarters under the year (the root)."""
    parents: dict[str, str] = {quarter_node(year, q): ROOT for q in range(1, 5)}
    for month in range(1, 13):
        parents[month_node(year, month)] = quarter_node(year, (month - 1) // 3 + 1)
    return Dimension("time", parents)


def choices(now: datetime, *, years: int = 3) -> list[Period]:
    """The periods a picker offers, newest first: months, quarters and years so far."""
    found: list[Period] = []
    for year in range(now.year, now.year - years, -1):
        found.append(Period(year, "year"))
        found.extend(Period(year, "quarter", q) for q in range(4, 0, -1))
        found.extend(Period(year, "month", m) for m in range(12, 0, -1))
    return [p for p in found if p.started_by(now)]
