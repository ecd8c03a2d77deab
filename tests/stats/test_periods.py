"""Periods: a month, a quarter or a year, nothing finer; each a node of its year's time tree."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.stats.cube import ROOT
from bot.stats.periods import BadPeriod, Period, choices, time_dimension


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-03", datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)),
        ("2026-12", datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        ("2026-q2", datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)),
        ("2026", datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
    ],
)
def test_each_form_covers_its_calendar_span(text: str, start: datetime, end: datetime) -> None:
    assert Period.parse(text).bounds() == (start, end)


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-Q5", "2026-03-10", "26", "", "x"])
def test_anything_finer_or_unreadable_is_refused(text: str) -> None:
    with pytest.raises(BadPeriod):
        Period.parse(text)


def test_neighbours_names_and_nodes() -> None:
    assert str(Period.parse("2026-01").previous()) == "2025-12"
    assert str(Period.parse("2026-Q4").next()) == "2027-Q1"
    assert Period.parse("2026").node == ROOT
    tree = time_dimension(2026)
    assert tree.ancestors("2026-05") == ["2026-05", "2026-Q2", ROOT]


def test_the_picker_offers_only_periods_that_have_begun() -> None:
    offered = choices(datetime(2026, 2, 15, tzinfo=UTC))
    names = [str(p) for p in offered]
    assert names[:4] == ["2026", "2026-Q1", "2026-02", "2026-01"]
    assert "2026-03" not in names and "2025-Q4" in names
