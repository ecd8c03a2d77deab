"""The partners' exports: the page's suppressed tables, in CSV and XLSX, formulas defused;
every hidden count, small or secondary, under the one mark that the legend explains."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from bot.stats.cases import CaseFigures
from bot.stats.cube import Cube, Dimension, suppress_all
from bot.stats.exports import RULE, to_csv, to_xlsx
from bot.stats.periods import Period
from bot.stats.report import table_lines
from bot.stats.suppression import HIDDEN, LEGEND, Count
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
    assert rows[1] == [RULE] == [LEGEND]
    assert ["Province", "Cases"] in rows
    assert ['\'=HYPERLINK("http://x")', "40"] in rows
    assert ["Maseru", HIDDEN] in rows and ["Total", "52"] in rows


def test_xlsx_has_a_sheet_per_table_with_numbers_as_numbers() -> None:
    book = load_workbook(io.BytesIO(to_xlsx(FIGURES, place)))
    sheet = book["province"]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][:2] == ["Cases by province", "2026-03"]
    assert values[1][0] == LEGEND
    assert ['\'=HYPERLINK("http://x")', 40] in values
    assert ["Maseru", HIDDEN] in values


def languages() -> CaseFigures:
    """French 300, English 200, Sesotho 5: Sesotho is small, English hidden for its sake."""
    lang = Dimension.flat("lang", ["fr", "en", "st"])
    cells = suppress_all([Cube.of([lang], {("fr",): 300, ("en",): 200, ("st",): 5})])
    rows = tuple(Row(code, code, (cells.at(lang=code),)) for code in ("fr", "en", "st"))
    table = Table(
        "language",
        "Cases by language",
        "Language",
        ("Cases",),
        rows,
        Row("total", "Total", (cells.at(),)),
    )
    return CaseFigures(Period.parse("2026"), (table,))


def test_a_secondary_count_of_hundreds_has_the_small_ones_mark_in_every_output() -> None:
    figures = languages()
    expected = [["fr", "300"], ["en", HIDDEN], ["st", HIDDEN], ["Total", "505"]]
    text = to_csv(figures, str)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == [LEGEND] and rows[-4:] == expected
    sheet = load_workbook(io.BytesIO(to_xlsx(figures, str)))["language"]
    assert sheet["A2"].value == LEGEND
    assert [[str(v) for v in r] for r in sheet.iter_rows(min_row=4, values_only=True)] == expected
    terminal = list(table_lines(figures.tables[0], str))
    assert [line.split() for line in terminal[-4:]] == expected
    assert "<11" not in text + "\n".join(terminal) + str(list(sheet.values))
