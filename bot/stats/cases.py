"""Figures about people and cases — always suppressed, whoever reads them.

Cases are counted over the calendar year of the period asked for, coarsened first (province,
not town; month, not day; children/adults, not ages; an exploitation type with fewer than 11
cases that year joins "other"), as cubes over the year's months, quarters and the year,
suppressed together (``bot.stats.cube``). A month, a quarter and the year are then cut from
the same suppressed figures, so no period's table gives away what another's hides.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.engine.areas import AreaTree
from bot.stats import labels
from bot.stats.cube import Cube, Dimension, Suppressed, suppress_all
from bot.stats.periods import Period, month_node, time_dimension
from bot.stats.rollup import YearCounts, year_counts
from bot.stats.suppression import THRESHOLD
from bot.stats.tables import Row, Table

UNKNOWN = labels.UNKNOWN
GROUPS = ("province", "type_age", "kind", "channel", "language")
"""The tables besides cases by month, in the order they are shown."""


def province_map(tree: AreaTree | None) -> dict[str, str]:
    """Each area code -> its province's code (a country named alone stays the country)."""
    found: dict[str, str] = {}
    if tree is None:
        return found
    for country in tree.countries:
        found[country.code] = country.code
        for province in country.areas:
            for area in province.walk():
                found[area.code] = province.code
    return found


def age_group(minor: bool | None) -> str:
    """Children, adults, or not stated (ages are never counted finer)."""
    if minor is None:
        return UNKNOWN
    return "minor" if minor else "adult"


@dataclass(frozen=True)
class CaseFigures:
    """The suppressed case tables of one period."""

    period: Period
    tables: tuple[Table, ...]

    @property
    def total(self) -> Row:
        return self.tables[0].total

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


def _leaves(counts: Mapping[tuple[str, ...], int], at: int, order: Sequence[str]) -> list[str]:
    """The codes found at position ``at``, in ``order`` first, then the rest sorted, then
    unknown last."""
    seen = {leaf[at] for leaf in counts}
    known = [code for code in order if code in seen and code != UNKNOWN]
    rest = sorted(seen - set(known) - {UNKNOWN})
    return known + rest + ([UNKNOWN] if UNKNOWN in seen else [])


def _cube(
    time: Dimension, name: str, counts: Mapping[tuple[str, ...], int], order: Sequence[str]
) -> Cube:
    return Cube.of([Dimension.flat(name, _leaves(counts, 0, order)), time], counts)


def _code(value: object) -> str:
    return str(value) if value not in (None, "") else UNKNOWN


def count_year(
    session: Session,
    period: Period,
    provinces: Mapping[str, str],
    *,
    now: datetime | None = None,
    counts: YearCounts | None = None,
) -> list[Cube]:
    """The year's cubes (province, type x age, kind, channel, language; each by month), from
    its months' counts (``bot.stats.rollup``)."""
    year = period.year
    time = time_dimension(year)

    def month(value: object) -> str:
        return month_node(year, int(str(value)))

    groups = (counts or year_counts(session, year, now=now)).case_groups()
    by_province: Counter[tuple[str, ...]] = Counter()
    for m, area, n in groups["area"]:
        province = provinces.get(str(area), UNKNOWN) if area else UNKNOWN
        by_province[(province, month(m))] += int(str(n))
    raw: Counter[tuple[str, str, str]] = Counter()
    for m, kind, minor, n in groups["type"]:
        age = age_group(None if minor is None else bool(minor))
        raw[(_code(kind), age, month(m))] += int(str(n))
    per_type: Counter[str] = Counter()
    for (kind, _, _), n in raw.items():
        per_type[kind] += n
    rare = {k for k, n in per_type.items() if n < THRESHOLD and k != UNKNOWN}
    by_type: Counter[tuple[str, ...]] = Counter()
    for (kind, age, m), n in raw.items():
        by_type[("other" if kind in rare else kind, age, m)] += n
    types = Dimension.flat("type", _leaves(by_type, 0, list(labels.exploitation)))
    ages = Dimension.flat("age", [a for a in labels.age if any(k[1] == a for k in by_type)])
    cubes = [_cube(time, "province", by_province, []), Cube.of([types, ages, time], by_type)]
    for name, order in (
        ("kind", list(labels.kind)),
        ("channel", list(labels.channel)),
        ("language", list(labels.language)),
    ):
        found: Counter[tuple[str, ...]] = Counter()
        for m, value, n in groups[name]:
            found[(_code(value), month(m))] += int(str(n))
        cubes.append(_cube(time, name, found, order))
    return cubes


def _label(name: str, code: str) -> str:
    table = {
        "type_age": labels.exploitation,
        "kind": labels.kind,
        "channel": labels.channel,
        "language": labels.language,
        "province": labels.place,
    }[name]
    return labels.word(table, code)


def build_tables(period: Period, cubes: Sequence[Cube], figures: Suppressed) -> tuple[Table, ...]:
    """The period's tables, cut from the year's suppressed figures."""
    node = period.node
    total = Row("total", labels.TOTAL, (figures.at(time=node),))
    months = [month_node(period.year, m) for m in period.months()]
    tables = [
        Table(
            "month",
            labels.titles["month"],
            labels.heads["month"],
            (labels.CASES,),
            tuple(Row(m, m, (figures.at(time=m),)) for m in months),
            total,
        )
    ]
    for cube in cubes:
        first = cube.dims[0]
        if first.name == "type":
            ages = cube.dims[1].leaves()
            columns = (*[labels.age[a] for a in ages], labels.TOTAL)
            rows = tuple(
                Row(
                    t,
                    _label("type_age", t),
                    (
                        *(figures.at(type=t, age=a, time=node) for a in ages),
                        figures.at(type=t, time=node),
                    ),
                )
                for t in first.leaves()
            )
            bottom = Row(
                "total",
                labels.TOTAL,
                (*(figures.at(age=a, time=node) for a in ages), figures.at(time=node)),
            )
            tables.append(
                Table(
                    "type_age",
                    labels.titles["type_age"],
                    labels.heads["type_age"],
                    columns,
                    rows,
                    bottom,
                )
            )
            continue
        name = first.name
        rows = tuple(
            Row(code, _label(name, code), (figures.at(**{name: code, "time": node}),))
            for code in first.leaves()
        )
        tables.append(
            Table(
                name,
                labels.titles[name],
                labels.heads[name],
                (labels.CASES,),
                rows,
                total,
                places=name == "province",
            )
        )
    return tuple(tables)


@dataclass(frozen=True)
class Year:
    """A year's cubes and their suppressed figures: every period of the year is cut from it."""

    year: int
    cubes: tuple[Cube, ...]
    figures: Suppressed


def count_year_figures(
    session: Session,
    year: int,
    provinces: Mapping[str, str],
    *,
    now: datetime | None = None,
    counts: YearCounts | None = None,
) -> Year:
    """Count and suppress a calendar year's cases (``counts``: the year's, if already read)."""
    cubes = count_year(session, Period(year, "year"), provinces, now=now, counts=counts)
    return Year(year, tuple(cubes), suppress_all(cubes))


def cut(period: Period, year: Year) -> CaseFigures:
    """The period's tables from its year's suppressed figures."""
    if period.year != year.year:
        raise ValueError(f"{period} is not in {year.year}")
    return CaseFigures(period, build_tables(period, year.cubes, year.figures))


def case_figures(
    session: Session,
    period: Period,
    provinces: Mapping[str, str] | None = None,
    *,
    counts: YearCounts | None = None,
) -> CaseFigures:
    """The period's case tables, suppressed (there is no other way to get them; ``counts``:
    the period's year, if already read)."""
    return cut(period, count_year_figures(session, period.year, provinces or {}, counts=counts))
