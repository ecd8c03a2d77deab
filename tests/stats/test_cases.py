"""Case figures: coarsened (province, month, children/adults, rare types as other), counted
on SQLite and PostgreSQL, and suppressed the same way in every period cut from a year."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.content.files import areas_beside
from bot.core.settings import ROOT
from bot.stats.cases import case_figures, province_map
from bot.stats.periods import Period
from tests.stats.helpers import APRIL, JULY, MARCH, add_cases

PROVINCES = province_map(areas_beside(ROOT / "flows"))


def shown(engine: Engine, period: str, table: str) -> dict[str, list[str]]:
    with Session(engine) as session:
        figures = case_figures(session, Period.parse(period), PROVINCES)
    found = figures.table(table)
    return {row.code: [str(c) for c in row.cells] for row in (*found.rows, found.total)}


def test_towns_count_in_their_province_and_small_ones_are_hidden(engine: Engine) -> None:
    add_cases(engine, 30, at=MARCH, area="cd-kwilu-kikwit")
    add_cases(engine, 12, at=MARCH, area="cd-kwilu")
    add_cases(engine, 40, at=MARCH, area="gn-conakry")
    add_cases(engine, 3, at=MARCH, area="ls-maseru")
    add_cases(engine, 20, at=MARCH, area=None)
    assert shown(engine, "2026-03", "province") == {
        "cd-kwilu": ["42"],
        "gn-conakry": ["40"],
        "ls-maseru": ["[c]"],
        "unknown": ["[c]"],  # secondary: else 105 - 42 - 40 - 23 = 3
        "total": ["105"],
    }


def test_a_rare_type_joins_other_and_ages_are_children_or_adults(engine: Engine) -> None:
    add_cases(engine, 25, at=MARCH, exploitation_type="forced_labour", minor=False)
    add_cases(engine, 15, at=MARCH, exploitation_type="forced_labour", minor=True)
    add_cases(engine, 2, at=MARCH, exploitation_type="organ_removal", minor=False)
    add_cases(engine, 12, at=MARCH, exploitation_type="other", minor=False)
    table = shown(engine, "2026", "type_age")
    assert "organ_removal" not in table
    # columns: children, adults (no case without an age), total
    assert table == {
        "forced_labour": ["15", "25", "40"],
        "other": ["0", "14", "14"],
        "total": ["15", "39", "54"],
    }


def test_months_and_quarters_are_cut_from_one_suppressed_year(engine: Engine) -> None:
    add_cases(engine, 20, at=MARCH, channel="ussd")
    add_cases(engine, 4, at=MARCH, channel="sms")
    add_cases(engine, 30, at=APRIL, channel="ussd")
    add_cases(engine, 30, at=APRIL, channel="sms")
    add_cases(engine, 15, at=JULY, channel="sms")
    assert shown(engine, "2026-03", "channel") == {
        "ussd": ["[c]"],  # else 24 - 20 = 4 sms
        "sms": ["[c]"],
        "total": ["24"],
    }
    quarters = {f"Q{q}": shown(engine, f"2026-Q{q}", "channel") for q in range(1, 5)}
    year = shown(engine, "2026", "channel")
    assert quarters["Q1"]["sms"] == ["[c]"]
    for code in ("ussd", "sms", "total"):
        parts = [quarters[q].get(code, ["0"])[0] for q in quarters]
        hidden = parts.count("[c]") + (year[code][0] == "[c]")
        assert hidden != 1, (code, parts, year[code])  # the year minus three quarters
    assert shown(engine, "2026", "month")["total"] == ["99"]


def test_no_cases_shows_zeros(engine: Engine) -> None:
    assert shown(engine, "2026-03", "kind") == {"total": ["0"]}
