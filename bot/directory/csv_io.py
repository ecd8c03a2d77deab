"""The service directory as CSV: import (all or nothing) and export.

The CSV has a header row with these columns, in any order (row numbers in messages count the
header as row 1, as a spreadsheet does)::

    name, organisation, service_type, areas, phones, hours, languages,
    min_age, max_age, genders, status, last_verified

``areas`` and ``languages`` hold several values separated by ``;`` inside the cell (stored
comma-separated); ``languages`` is a subset of en, fr, ln, st; ``genders`` is any, female or
male; ``status`` is active, paused or closed; ``last_verified`` is YYYY-MM-DD. Each row is
checked by ``bot.directory.validate`` (the checks a form or an API route uses too). A file is
checked whole before anything is written: one bad row and nothing is imported. A good file
adds or updates services by (name, organisation), compared without regard to case.

Service phone numbers are public, yet never logged: messages name rows and columns, not
phone values.

Exported cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) are neutralised with a leading ``'``, which an import
removes again, so an export imports back unchanged (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core.clock import utcnow
from bot.directory.validate import FIELDS, ServiceFields, check_service, service_key
from bot.governance import audit
from bot.models import Service

log = logging.getLogger(__name__)

COLUMNS = FIELDS
"""The CSV's columns: a service's fields, by the same names."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these runs as a formula in a spreadsheet."""


def neutralise(cell: str) -> str:
    """A cell a spreadsheet shows as text: a leading ``'`` before a formula's first character."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def unneutralise(cell: str) -> str:
    """A cell as it was before ``neutralise`` (other cells unchanged)."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


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
    """One checked CSV row: its number (the header is row 1) and the service it describes."""

    number: int
    service: ServiceFields

    @property
    def key(self) -> tuple[str, str]:
        """(name, organisation) as compared: case and outer spaces ignored."""
        return self.service.key


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
    today = utcnow().date()
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
                cells[name] = unneutralise(cell)
        service, problems = check_service(cells, today=today)
        errors.extend(f"row {number}: {problem}" for problem in problems)
        if service is None:
            continue
        row = Row(number, service)
        if row.key in seen:
            errors.append(f"row {number}: same name and organisation as row {seen[row.key]}")
            continue
        seen[row.key] = number
        rows.append(row)
    if not rows and not errors:
        errors.append("the file has no services under its header")
    return rows, errors


def import_csv(
    engine: Engine, path_or_text: str | Path, *, actor: str = audit.SYSTEM
) -> ImportResult:
    """Check every row, then add or update services in one transaction; nothing if any is bad.

    A good file is audited (``import_directory``, with its counts) in the same transaction.
    """
    text, error = _read(path_or_text)
    if text is None:
        return ImportResult(errors=[error or "cannot read the file"])
    return import_text(engine, text, actor=actor)


def import_text(engine: Engine, text: str, *, actor: str) -> ImportResult:
    """``import_csv`` of a CSV's text (an upload): never read as a file name, whatever it says."""
    rows, errors = parse_csv(text.removeprefix("\ufeff"))
    if errors:
        log.warning("directory import refused: %d problem(s)", len(errors))
        return ImportResult(errors=errors)
    added = updated = unchanged = 0
    now = utcnow()
    with Session(engine) as session:
        existing: dict[tuple[str, str], list[Service]] = {}
        for service in session.exec(select(Service)).all():
            existing.setdefault(service_key(service.name, service.organisation), []).append(service)
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
                session.add(Service(**row.service.columns(), updated_at=now))
                added += 1
            elif row.service.apply_to(matches[0]):
                matches[0].updated_at = now
                session.add(matches[0])
                updated += 1
            else:
                unchanged += 1
        audit.record(
            session,
            actor=actor,
            action="import_directory",
            reason=f"{added} added, {updated} updated, {unchanged} unchanged",
        )
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
    if isinstance(value, tuple):
        return neutralise("; ".join(value))
    return neutralise(str(value))


def write_csv(services: list[Service]) -> str:
    """Services as CSV in the import format, in the order given, formula cells neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for service in services:
        fields_ = ServiceFields.of(service)
        writer.writerow([_cell(getattr(fields_, name)) for name in COLUMNS])
    return out.getvalue()


def export_csv(engine: Engine) -> str:
    """The whole directory (every status) as CSV in the import format, by type then name."""
    with Session(engine) as session:
        return write_csv(sorted(session.exec(select(Service)).all(), key=_order))
