"""Finding who can help a person: active services by area, type, language, age and gender.

A service lists the places it serves by code (``cd-kwilu-kikwit``) or by name (``Kikwit``).
Given the areas data, a search for a place also finds services of the places above it (the
province, the country), nearest first: a national helpline serves Kikwit too.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.core.languages import LANGUAGES, is_language
from bot.directory.validate import SERVICE_TYPES, split_list
from bot.engine.areas import AreaTree
from bot.models import Service

__all__ = ["area_and_above", "find", "split_list"]


def area_and_above(area: str, tree: AreaTree | None = None) -> list[set[str]]:
    """How a service may name ``area`` and each place above it, nearest first (casefolded).

    Each place answers to its code, its name and its name without a bracket (``Kikwit
    (ville)`` is also ``Kikwit``). Without the areas data, or for a place it does not know,
    only ``area`` itself as given.
    """
    wanted = area.strip().casefold()
    found = tree.lookup(wanted) if tree is not None else None
    if tree is None or found is None:
        return [{wanted}]
    levels: list[set[str]] = []
    for place in reversed(tree.path(found.code)):
        name = place.name.casefold()
        levels.append({place.code, name, re.sub(r"\s*\(.*\)$", "", name)})
    return levels


def _rank(service: Service, levels: list[set[str]]) -> int | None:
    """How far above the place asked for the nearest place ``service`` serves (0: that place)."""
    served = {a.casefold() for a in split_list(service.areas)}
    return next((i for i, names in enumerate(levels) if names & served), None)


def find(
    engine: Engine,
    *,
    area: str | None = None,
    service_type: str | None = None,
    lang: str | None = None,
    age: int | None = None,
    gender: str | None = None,
    tree: AreaTree | None = None,
) -> list[Service]:
    """Active services that fit every filter given, sorted by service type then name.

    ``area`` matches one of a service's areas, ignoring case (with ``tree``, the areas data,
    also a place above it: the nearest places first); ``lang`` one of its languages;
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
    levels = area_and_above(area, tree) if area is not None else None
    ranks: dict[int | None, int] = {}

    def fits(service: Service) -> bool:
        if levels is not None:
            rank = _rank(service, levels)
            if rank is None:
                return False
            ranks[service.id] = rank
        if lang is not None and lang not in split_list(service.languages):
            return False
        if age is not None:
            if service.min_age is not None and age < service.min_age:
                return False
            if service.max_age is not None and age > service.max_age:
                return False
        return gender is None or service.genders in ("any", gender)

    found = [s for s in services if fits(s)]
    return sorted(
        found,
        key=lambda s: (
            ranks.get(s.id, 0),
            s.service_type,
            s.name.casefold(),
            s.organisation.casefold(),
        ),
    )
