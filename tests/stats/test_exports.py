"""The partners' exports: the page's suppressed tables, in CSV and XLSX, formulas defused."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from bot.stats.cases import CaseFigures
from bot.stats.exports import RULE, to_csv, to_xlsx
from bot.stats.periods import Period
from bot.stats.suppression import Count
from bot.stats.tables import Row, Table

FIGURES = CaseFigures(
    Period.parse("2026-03"),
    (
        Table(
            "province",
            "Cases by province",
            "Province",
            ("Cases",),
            (Row("cd-kwilu", "cd-kwilu", (Count(40),)), Row("ls-maseru", "x", (Count(None),))),
            Row("total", "Total", (Count(52),)),
            places=True,
        ),
    ),
)


def place(code: str) -> str:
    return {"cd-kwilu": '=HYPERLINK("http://x")', "ls-maseru": "Maseru"}[code]


def test_csv_holds_the_rule_the_tables_and_no_formula() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(FIGURES, place))))
    assert rows[1] == [RULE]
    assert ["Province", "Cases"] in rows
    assert ['\'=HYPERLINK("http://x")', "40"] in rows
    assert ["Maseru", "<11"] in rows and ["Total", "52"] in rows


def test_xlsx_has_a_sheet_per_table_with_numbers_as_numbers() -> None:
    book = load_workbook(io.BytesIO(to_xlsx(FIGURES, place)))
    sheet = book["province"]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][:2] == ["Cases by province", "2026-03"]
    assert ['\'=HYPERLINK("http://x")', 40] in values
    assert ["Maseru", "<11"] in values
