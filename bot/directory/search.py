"""Finding who can help a person: active services by area, type, language, age and gender."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.core.languages import LANGUAGES, is_language
from bot.directory.validate import SERVICE_TYPES, split_list
from bot.models import Service

__all__ = ["find", "split_list"]


def _order(service: Service) -> tuple[str, str, str]:
    return (service.service_type, service.name.casefold(), service.organisation.casefold())


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
    that gender or for any. ValueError for a filter value that can match nothing.
    """
    if service_type is not None and service_type not in SERVICE_TYPES:
        raise ValueError(f"service_type {service_type!r} is not one of {', '.join(SERVICE_TYPES)}")
    if lang is not None and not is_language(lang):
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
