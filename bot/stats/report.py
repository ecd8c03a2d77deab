"""The figures as lines of plain text, for ``hotline stats`` in a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from bot.stats import labels
from bot.stats.service import ServiceFigures
from bot.stats.tables import Table


def duration(seconds: float | None) -> str:
    """A time as minutes, hours or days."""
    if seconds is None:
        return "-"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _grid(rows: list[list[str]]) -> Iterator[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        first, *rest = row
        yield "  ".join(
            [first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))]
        )


def table_lines(table: Table, place: Callable[[str], str]) -> Iterator[str]:
    """A case table: title, then aligned columns, total last."""
    yield table.title
    rows = [[table.head, *table.columns]]
    for row in (*table.rows, table.total):
        name = (
            place(row.code)
            if table.places and row.code not in (labels.UNKNOWN, "total")
            else row.label
        )
        rows.append([name, *(str(c) for c in row.cells)])
    yield from _grid(rows)


def service_lines(figures: ServiceFigures) -> Iterator[str]:
    """The service figures, in full."""
    yield "Cases per priority (target; acknowledged and triaged within it; medians)"
    rows = [
        [
            "priority",
            "target",
            "cases",
            "ack in target",
            "median ack",
            "triaged in target",
            "median triage",
        ]
    ]
    for f in figures.priorities:
        rows.append(
            [
                f.priority,
                duration(f.target.total_seconds()),
                str(f.cases),
                f"{f.acknowledged.within}/{f.acknowledged.reached}",
                duration(f.acknowledged.median_seconds),
                f"{f.triaged.within}/{f.triaged.reached}",
                duration(f.triaged.median_seconds),
            ]
        )
    yield from _grid(rows)
    yield ""
    yield "Escalations per level"
    yield from _grid(
        [["level", "alerts", "acknowledged"]]
        + [[labels.level.get(lv, str(lv)), str(n), str(a)] for lv, n, a in figures.escalations]
    )
    yield ""
    c = figures.coverage
    yield f"Rota: {c.shifts} shifts, {c.gaps} stretches without a primary ({c.gap_hours} h)"
    yield ""
    yield "Referrals by service type and outcome"
    outcomes = list(labels.referral)
    yield from _grid(
        [["service type", *(labels.referral[o] for o in outcomes)]]
        + [
            [labels.word(labels.service_type, kind), *(str(found.get(o, 0)) for o in outcomes)]
            for kind, found in figures.referrals
        ]
    )
    yield ""
    yield "Deliveries per channel"
    yield from _grid(
        [["channel", "messages", "failed"]]
        + [[labels.word(labels.channel, ch), str(n), str(f)] for ch, n, f in figures.deliveries]
    )
