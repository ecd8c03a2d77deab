"""The case tables as CSV and XLSX for partners: the same suppressed counts as the page.

Every count comes from ``bot.stats.cases`` (already suppressed; ``HIDDEN`` where hidden); no
rates, no service figures. Text cells that a spreadsheet would run as a formula get a
leading ``'`` (``bot.directory.csv_io.neutralise``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator

from openpyxl import Workbook
from openpyxl.styles import Font

from bot.directory.csv_io import neutralise
from bot.stats import labels
from bot.stats.cases import CaseFigures
from bot.stats.suppression import LEGEND
from bot.stats.tables import Row, Table

RULE = LEGEND
"""The legend at the top of every export (and of ``hotline stats``)."""
Namer = Callable[[str], str]
"""An area code -> the place's name."""


def _label(table: Table, row: Row, place: Namer) -> str:
    if table.places and row.code != labels.UNKNOWN and row.code != "total":
        return place(row.code)
    return row.label


def rows_of(figures: CaseFigures, place: Namer) -> Iterator[list[str]]:
    """Every line of the export: a heading per table, its columns, its rows and total."""
    yield ["Hotline case figures", str(figures.period)]
    yield [RULE]
    for table in figures.tables:
        yield []
        yield [table.title]
        yield [table.head, *table.columns]
        for row in (*table.rows, table.total):
            yield [_label(table, row, place), *(str(c) for c in row.cells)]


def to_csv(figures: CaseFigures, place: Namer) -> str:
    """The tables as one CSV (UTF-8, one table after another)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for line in rows_of(figures, place):
        writer.writerow([neutralise(cell) for cell in line])
    return out.getvalue()


def _cell(text: str) -> str | int:
    """A count as a number, anything else (including the hidden mark) as neutralised text."""
    return int(text) if text.isdigit() else neutralise(text)


def to_xlsx(figures: CaseFigures, place: Namer) -> bytes:
    """The tables as a workbook: a sheet per table, the rule on each."""
    book = Workbook()
    first = True
    for table in figures.tables:
        sheet = book.active if first else book.create_sheet()
        first = False
        sheet.title = table.name
        sheet.append([neutralise(table.title), str(figures.period)])
        sheet.append([RULE])
        sheet.append([table.head, *table.columns])
        sheet["A3"].font = Font(bold=True)
        for row in (*table.rows, table.total):
            sheet.append(
                [neutralise(_label(table, row, place)), *(_cell(str(c)) for c in row.cells)]
            )
        sheet.column_dimensions["A"].width = 28
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
