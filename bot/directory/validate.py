"""What a service in the directory is, checked once for every way one arrives.

CSV import (``bot.directory.csv_io``), the team web's form and any API route call
``check_service`` / ``validate_service`` with the raw fields: text as typed (lists separated
by ``;``, ages and dates as text) or already typed (lists, ints, a ``date``), blank meaning
none. Each problem is a ``FieldError`` naming its field; phone values are never quoted.

Fields (DESIGN §8): name, organisation, service_type, areas, phones, hours, languages,
min_age, max_age, genders, status, last_verified. Stored, ``areas`` and ``languages`` are
comma-separated (``split_list`` reads them back).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any, Final

from bot.core.clock import utcnow
from bot.core.languages import LANGUAGES
from bot.models import Service

SERVICE_TYPES: Final = (
    "shelter",
    "medical",
    "psychosocial",
    "legal",
    "police",
    "family_tracing",
    "return_reintegration",
)
GENDERS: Final = ("any", "female", "male")
STATUSES: Final = ("active", "paused", "closed")
FIELDS: Final = (
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
"""A service's fields, in the order of the CSV's columns."""
REQUIRED: Final = ("name", "organisation", "service_type", "areas", "status")
"""Fields that may not be blank (a blank ``genders`` means any)."""
MAX_LENGTH: Final = {"name": 200, "organisation": 200, "phones": 200, "hours": 200}
MAX_AREAS: Final = 1000
"""Length of the stored (comma-separated) areas."""
MAX_AGE: Final = 120
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INT = re.compile(r"^\d{1,3}$")


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of a service."""

    field: str
    message: str

    def __str__(self) -> str:
        return self.message


class InvalidService(ValueError):
    """A service with one or more bad fields; ``errors`` has each, naming its field."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(e.message for e in errors))


def split_list(stored: str) -> list[str]:
    """A stored comma-separated list (``areas``, ``languages``) as its items."""
    return [item.strip() for item in stored.split(",") if item.strip()]


def service_key(name: str, organisation: str) -> tuple[str, str]:
    """How services are told apart: (name, organisation), case and outer spaces ignored."""
    return (name.strip().casefold(), organisation.strip().casefold())


@dataclass(frozen=True)
class ServiceFields:
    """A service's fields, checked: what a CSV row, a form or a request says a service is."""

    name: str
    organisation: str
    service_type: str
    areas: tuple[str, ...]
    phones: str = ""
    hours: str = ""
    languages: tuple[str, ...] = ()
    min_age: int | None = None
    max_age: int | None = None
    genders: str = "any"
    status: str = "active"
    last_verified: date | None = None

    @property
    def key(self) -> tuple[str, str]:
        """(name, organisation) as compared: case and outer spaces ignored."""
        return service_key(self.name, self.organisation)

    def columns(self) -> dict[str, Any]:
        """The values of the ``Service`` table's columns (lists comma-separated)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["areas"] = ",".join(self.areas)
        values["languages"] = ",".join(self.languages)
        return values

    def apply_to(self, service: Service) -> bool:
        """Write these fields onto a stored service; did anything change?"""
        changed = False
        for name, value in self.columns().items():
            if getattr(service, name) != value:
                setattr(service, name, value)
                changed = True
        return changed

    @classmethod
    def of(cls, service: Service) -> ServiceFields:
        """A stored service's fields, as they are (not checked again)."""
        return cls(
            name=service.name,
            organisation=service.organisation,
            service_type=service.service_type,
            areas=tuple(split_list(service.areas)),
            phones=service.phones,
            hours=service.hours,
            languages=tuple(split_list(service.languages)),
            min_age=service.min_age,
            max_age=service.max_age,
            genders=service.genders,
            status=service.status,
            last_verified=service.last_verified,
        )


class _Checker:
    """Collects the problems of one service while reading its fields."""

    def __init__(self, raw: Mapping[str, object]) -> None:
        self.raw = raw
        self.errors: list[FieldError] = []

    def problem(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))

    def text(self, field: str) -> str:
        value = self.raw.get(field)
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.problem(field, f"{field} must be text")
            return ""
        value = value.strip()
        if not value and field in REQUIRED:
            self.problem(field, f"{field} is required")
        limit = MAX_LENGTH.get(field)
        if limit is not None and len(value) > limit:
            self.problem(field, f"{field} is longer than {limit} characters")
        return value

    def choice(self, field: str, options: tuple[str, ...], default: str = "") -> str:
        given = self.text(field)
        if not given:
            return default
        value = given.lower()
        if value not in options:
            self.problem(field, f"{field} '{given}' is not one of {', '.join(options)}")
        return value

    def items(self, field: str) -> list[str]:
        value = self.raw.get(field)
        if value is None:
            given: list[object] = []
        elif isinstance(value, str):
            given = list(value.split(";"))
        elif isinstance(value, list | tuple):
            given = list(value)
        else:
            self.problem(field, f"{field} must be a list or text separated by ';'")
            return []
        seen: dict[str, str] = {}
        for item in given:
            if not isinstance(item, str):
                self.problem(field, f"{field} must hold text")
                return []
            item = item.strip()
            if item and item.casefold() not in seen:
                seen[item.casefold()] = item
        if not seen and field in REQUIRED:
            self.problem(field, f"{field} is required")
        return list(seen.values())

    def age(self, field: str) -> int | None:
        value = self.raw.get(field)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            self.problem(field, f"{field} is not an age (a whole number 0-{MAX_AGE})")
            return None
        cell = str(value).strip()
        if not cell:
            return None
        if not _INT.match(cell) or int(cell) > MAX_AGE:
            self.problem(field, f"{field} '{cell}' is not an age (a whole number 0-{MAX_AGE})")
            return None
        return int(cell)

    def day(self, field: str, today: date) -> date | None:
        value = self.raw.get(field)
        if value is None or value == "":
            return None
        if isinstance(value, date):
            day, shown = value, value.isoformat()
        elif isinstance(value, str):
            shown = value.strip()
            if not shown:
                return None
            try:
                if not _DATE.match(shown):
                    raise ValueError(shown)
                day = date.fromisoformat(shown)
            except ValueError:
                self.problem(field, f"{field} '{shown}' is not a date (YYYY-MM-DD)")
                return None
        else:
            self.problem(field, f"{field} is not a date (YYYY-MM-DD)")
            return None
        if day > today + timedelta(days=1):
            self.problem(field, f"{field} '{shown}' is in the future")
            return None
        return day


def check_service(
    raw: Mapping[str, object], *, today: date | None = None
) -> tuple[ServiceFields | None, list[FieldError]]:
    """The service's checked fields and no problems, or None and every problem found.

    ``raw`` maps field names to values; a missing field is blank. ``today`` (UTC by default)
    bounds ``last_verified``: a day ahead is allowed for time zones, no more.
    """
    check = _Checker(raw)
    unknown = sorted(str(k) for k in raw if k not in FIELDS)
    for name in unknown:
        check.problem(name, f"{name} is not a field of a service")
    name = check.text("name")
    organisation = check.text("organisation")
    service_type = check.choice("service_type", SERVICE_TYPES)
    areas = check.items("areas")
    for area in areas:
        if "," in area:
            check.problem("areas", f"area '{area}' contains a comma; separate areas with ';'")
    if len(",".join(areas)) > MAX_AREAS:
        check.problem("areas", f"areas is longer than {MAX_AREAS} characters")
    phones = check.text("phones")
    hours = check.text("hours")
    languages = [lang.lower() for lang in check.items("languages")]
    for lang in languages:
        if lang not in LANGUAGES:
            check.problem("languages", f"language '{lang}' is not one of {', '.join(LANGUAGES)}")
    min_age = check.age("min_age")
    max_age = check.age("max_age")
    if min_age is not None and max_age is not None and min_age > max_age:
        check.problem("min_age", f"min_age {min_age} is greater than max_age {max_age}")
    genders = check.choice("genders", GENDERS, default="any")
    status = check.choice("status", STATUSES)
    last_verified = check.day("last_verified", today or utcnow().date())
    if check.errors:
        return None, check.errors
    return (
        ServiceFields(
            name=name,
            organisation=organisation,
            service_type=service_type,
            areas=tuple(areas),
            phones=phones,
            hours=hours,
            languages=tuple(languages),
            min_age=min_age,
            max_age=max_age,
            genders=genders,
            status=status,
            last_verified=last_verified,
        ),
        [],
    )


def validate_service(raw: Mapping[str, object], *, today: date | None = None) -> ServiceFields:
    """The service's checked fields; InvalidService listing every problem otherwise."""
    checked, errors = check_service(raw, today=today)
    if checked is None:
        raise InvalidService(errors)
    return checked
