"""The service directory: import and export as CSV, and find who can help a person.

The CSV has a header row with these columns, in any order (row numbers in messages count the
header as row 1, as a spreadsheet does)::

    name, organisation, service_type, areas, phones, hours, languages,
    min_age, max_age, genders, status, last_verified

``areas`` and ``languages`` hold several values separated by ``;`` inside the cell (stored
comma-separated); ``languages`` is a subset of en, fr, ln, st; ``genders`` is any, female or
male; ``status`` is active, paused or closed; ``last_verified`` is YYYY-MM-DD. A file is
checked whole before anything is written: one bad row and nothing is imported. A good file
adds or updates services by (name, organisation), compared without regard to case.

Service phone numbers are public, yet never logged: messages name rows and columns, not
phone values.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.core.clock import utcnow
from bot.models import Service

log = logging.getLogger(__name__)

SERVICE_TYPES = (
    "shelter",
    "medical",
    "psychosocial",
    "legal",
    "police",
    "family_tracing",
    "return_reintegration",
)
LANGUAGES = ("en", "fr", "ln", "st")
GENDERS = ("any", "female", "male")
STATUSES = ("active", "paused", "closed")
COLUMNS = (
    "name",
    "organisation",
    "service_type",
    "areas",
    "phones",
    "hours",
    "languages",
    "min_age",
    "max_age",
    "genders",
    "status",
    "last_verified",
)
REQUIRED = ("name", "organisation", "service_type", "areas", "status")
"""Columns whose cell may not be blank (a blank ``genders`` means any)."""
MAX_LENGTH = {"name": 200, "organisation": 200, "phones": 200, "hours": 200}
MAX_AREAS = 1000
"""Length of the stored (comma-separated) areas."""
MAX_AGE = 120
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INT = re.compile(r"^\d{1,3}$")
_FIELDS = (
    "service_type",
    "areas",
    "phones",
    "hours",
    "languages",
    "min_age",
    "max_age",
    "genders",
    "status",
    "last_verified",
)
"""Fields an import writes besides the key (name and organisation)."""


@dataclass(frozen=True)
class ImportResult:
    """What an import did: counts when it went through, else every problem (nothing written)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file was imported."""
        return not self.errors


@dataclass(frozen=True)
class Row:
    """One checked CSV row: its number (the header is row 1) and the service's field values."""

    number: int
    values: dict[str, object]

    @property
    def key(self) -> tuple[str, str]:
        """(name, organisation) as compared: case and outer spaces ignored."""
        return _key(str(self.values["name"]), str(self.values["organisation"]))


def _key(name: str, organisation: str) -> tuple[str, str]:
    return (name.strip().casefold(), organisation.strip().casefold())


def split_list(stored: str) -> list[str]:
    """A stored comma-separated list (``areas``, ``languages``) as its items."""
    return [item.strip() for item in stored.split(",") if item.strip()]


def _read(path_or_text: str | Path) -> tuple[str | None, str | None]:
    """(text, error): a Path, or a one-line string without a comma, names a file; else CSV."""
    if isinstance(path_or_text, str) and (
        not path_or_text.strip() or "\n" in path_or_text or "," in path_or_text
    ):
        return path_or_text.removeprefix("\ufeff"), None
    path = Path(path_or_text)
    try:
        return path.read_text(encoding="utf-8-sig"), None
    except UnicodeDecodeError:
        return None, f"{path.name} is not UTF-8 text; save it as 'CSV UTF-8'"
    except OSError as exc:
        return None, f"cannot read {path.name}: {exc.strerror}"


def _check_header(header: list[str]) -> list[str]:
    names = [h.strip().lower() for h in header]
    if len(names) == 1 and ";" in names[0]:
        return ["header: columns are separated by ';'; save the file as CSV with commas"]
    errors: list[str] = []
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        errors.append(f"header: missing column(s) {', '.join(missing)}")
    unknown = [h for h in names if h and h not in COLUMNS]
    if unknown:
        errors.append(
            f"header: unknown column(s) {', '.join(repr(u) for u in unknown)} "
            f"(columns: {', '.join(COLUMNS)})"
        )
    doubled = sorted({h for h in names if h and names.count(h) > 1})
    if doubled:
        errors.append(f"header: column(s) {', '.join(doubled)} appear more than once")
    return errors


def _items(cell: str) -> list[str]:
    seen: dict[str, str] = {}
    for item in cell.split(";"):
        item = item.strip()
        if item and item.casefold() not in seen:
            seen[item.casefold()] = item
    return list(seen.values())


def _age(cell: str, column: str, problems: list[str]) -> int | None:
    if not cell:
        return None
    if not _INT.match(cell) or int(cell) > MAX_AGE:
        problems.append(f"{column} '{cell}' is not an age (a whole number 0-{MAX_AGE})")
        return None
    return int(cell)


def _choice(cell: str, column: str, options: Sequence[str], problems: list[str]) -> str:
    value = cell.lower()
    if value not in options:
        problems.append(f"{column} '{cell}' is not one of {', '.join(options)}")
    return value


def _parse_row(cells: dict[str, str]) -> tuple[dict[str, object], list[str]]:
    """The row's field values and the problems found in it (phone values never quoted)."""
    problems: list[str] = []
    for column in REQUIRED:
        if not cells[column]:
            problems.append(f"{column} is required")
    for column, limit in MAX_LENGTH.items():
        if len(cells[column]) > limit:
            problems.append(f"{column} is longer than {limit} characters")
    values: dict[str, object] = {
        "name": cells["name"],
        "organisation": cells["organisation"],
        "phones": cells["phones"],
        "hours": cells["hours"],
    }
    if cells["service_type"]:
        values["service_type"] = _choice(
            cells["service_type"], "service_type", SERVICE_TYPES, problems
        )
    areas = _items(cells["areas"])
    for area in areas:
        if "," in area:
            problems.append(f"area '{area}' contains a comma; separate areas with ';'")
    values["areas"] = ",".join(areas)
    if len(str(values["areas"])) > MAX_AREAS:
        problems.append(f"areas is longer than {MAX_AREAS} characters")
    languages = [lang.lower() for lang in _items(cells["languages"])]
    for lang in languages:
        if lang not in LANGUAGES:
            problems.append(f"language '{lang}' is not one of {', '.join(LANGUAGES)}")
    values["languages"] = ",".join(languages)
    min_age = _age(cells["min_age"], "min_age", problems)
    max_age = _age(cells["max_age"], "max_age", problems)
    if min_age is not None and max_age is not None and min_age > max_age:
        problems.append(f"min_age {min_age} is greater than max_age {max_age}")
    values["min_age"], values["max_age"] = min_age, max_age
    values["genders"] = _choice(cells["genders"] or "any", "genders", GENDERS, problems)
    if cells["status"]:
        values["status"] = _choice(cells["status"], "status", STATUSES, problems)
    values["last_verified"] = None
    if cells["last_verified"]:
        verified = cells["last_verified"]
        try:
            if not _DATE.match(verified):
                raise ValueError(verified)
            day = date.fromisoformat(verified)
        except ValueError:
            problems.append(f"last_verified '{verified}' is not a date (YYYY-MM-DD)")
        else:
            if day > utcnow().date() + timedelta(days=1):
                problems.append(f"last_verified '{verified}' is in the future")
            values["last_verified"] = day
    return values, problems


def parse_csv(text: str) -> tuple[list[Row], list[str]]:
    """Every row of a directory CSV, checked; (rows, errors), errors naming their row."""
    records = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(records)
    except StopIteration:
        return [], ["the file is empty; it needs a header row"]
    except csv.Error as exc:
        return [], [f"row 1: {exc}"]
    errors = _check_header(header)
    if errors:
        return [], errors
    names = [h.strip().lower() for h in header]
    rows: list[Row] = []
    seen: dict[tuple[str, str], int] = {}
    number = 1
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(f"row {number + 1}: {exc}")
            break
        number += 1
        if not any(cell.strip() for cell in record):
            continue
        extra = [cell for cell in record[len(names) :] if cell.strip()]
        if extra:
            errors.append(f"row {number}: {len(record)} cells but the header has {len(names)}")
            continue
        cells = {name: "" for name in COLUMNS}
        for name, cell in zip(names, record, strict=False):
            if name:
                cells[name] = cell.strip()
        values, problems = _parse_row(cells)
        errors.extend(f"row {number}: {problem}" for problem in problems)
        if problems:
            continue
        row = Row(number, values)
        if row.key in seen:
            errors.append(f"row {number}: same name and organisation as row {seen[row.key]}")
            continue
        seen[row.key] = number
        rows.append(row)
    if not rows and not errors:
        errors.append("the file has no services under its header")
    return rows, errors


def import_csv(engine: Engine, path_or_text: str | Path) -> ImportResult:
    """Check every row, then add or update services in one transaction; nothing if any is bad."""
    text, error = _read(path_or_text)
    if text is None:
        return ImportResult(errors=[error or "cannot read the file"])
    rows, errors = parse_csv(text)
    if errors:
        log.warning("directory import refused: %d problem(s)", len(errors))
        return ImportResult(errors=errors)
    added = updated = unchanged = 0
    now = utcnow()
    with Session(engine) as session:
        existing: dict[tuple[str, str], list[Service]] = {}
        for service in session.exec(select(Service)).all():
            existing.setdefault(_key(service.name, service.organisation), []).append(service)
        for row in rows:
            if len(existing.get(row.key, [])) > 1:
                errors.append(
                    f"row {row.number}: {len(existing[row.key])} services in the directory have "
                    "this name and organisation; merge them first"
                )
        if errors:
            return ImportResult(errors=errors)
        for row in rows:
            matches = existing.get(row.key)
            if not matches:
                service = Service(name="", organisation="", service_type="", areas="")
                for name, value in row.values.items():
                    setattr(service, name, value)
                service.updated_at = now
                session.add(service)
                added += 1
                continue
            service = matches[0]
            changed = False
            for name in ("name", "organisation", *_FIELDS):
                if getattr(service, name) != row.values[name]:
                    setattr(service, name, row.values[name])
                    changed = True
            if changed:
                service.updated_at = now
                session.add(service)
                updated += 1
            else:
                unchanged += 1
        session.commit()
    log.info("directory import: %d added, %d updated, %d unchanged", added, updated, unchanged)
    return ImportResult(added=added, updated=updated, unchanged=unchanged)


def _order(service: Service) -> tuple[str, str, str]:
    return (service.service_type, service.name.casefold(), service.organisation.casefold())


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def export_csv(engine: Engine) -> str:
    """The whole directory (every status) as CSV in the import format, by type then name."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    with Session(engine) as session:
        services = sorted(session.exec(select(Service)).all(), key=_order)
        for service in services:
            row = {name: _cell(getattr(service, name)) for name in COLUMNS}
            row["areas"] = "; ".join(split_list(service.areas))
            row["languages"] = "; ".join(split_list(service.languages))
            writer.writerow([row[name] for name in COLUMNS])
    return out.getvalue()


def find(
    engine: Engine,
    *,
    area: str | None = None,
    service_type: str | None = None,
    lang: str | None = None,
    age: int | None = None,
    gender: str | None = None,
) -> list[Service]:
    """Active services that fit every filter given, sorted by service type then name.

    ``area`` matches one of a service's areas, ignoring case; ``lang`` one of its languages;
    ``age`` its age range (an open end is no limit); ``gender`` (female or male) a service for
    that gender or for any.
    """
    if service_type is not None and service_type not in SERVICE_TYPES:
        raise ValueError(f"service_type {service_type!r} is not one of {', '.join(SERVICE_TYPES)}")
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"lang {lang!r} is not one of {', '.join(LANGUAGES)}")
    if gender is not None and gender not in ("female", "male"):
        raise ValueError(f"gender {gender!r} is not female or male")
    query = select(Service).where(col(Service.status) == "active")
    if service_type is not None:
        query = query.where(col(Service.service_type) == service_type)
    with Session(engine) as session:
        services = list(session.exec(query).all())
    wanted_area = area.strip().casefold() if area is not None else None

    def fits(service: Service) -> bool:
        if wanted_area is not None and wanted_area not in {
            a.casefold() for a in split_list(service.areas)
        }:
            return False
        if lang is not None and lang not in split_list(service.languages):
            return False
        if age is not None:
            if service.min_age is not None and age < service.min_age:
                return False
            if service.max_age is not None and age > service.max_age:
                return False
        return gender is None or service.genders in ("any", gender)

    found = [s for s in services if fits(s)]
    return sorted(found, key=_order)
