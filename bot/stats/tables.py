"""A figure table as every reader gets it: the page, the CSV and XLSX exports and the terminal.

Case tables hold only ``Count``s that went through ``bot.stats.suppression``; a row's label is
English (a msgid of the team web's catalog) or, for places, an area code the reader names.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.stats.suppression import Count, rate


@dataclass(frozen=True)
class Row:
    """One category and its counts (one per column)."""

    code: str
    label: str
    cells: tuple[Count, ...]


@dataclass(frozen=True)
class Table:
    """Rows of counts under columns, with the total row; ``places``: row codes are areas."""

    name: str
    title: str
    head: str
    """What the rows are (the first column's heading)."""
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    total: Row
    places: bool = False

    def shares(self, row: Row) -> tuple[float | None, ...]:
        """Each cell of ``row`` as a share of its column's total (None: hidden or no total)."""
        return tuple(rate(c, t) for c, t in zip(row.cells, self.total.cells, strict=True))

    def counts(self) -> list[Count]:
        """Every count the table shows, totals included."""
        return [c for row in (*self.rows, self.total) for c in row.cells]

    def hidden(self) -> int:
        """How many counts are hidden (shown with the mark)."""
        return sum(1 for c in self.counts() if c.hidden)
