"""Places a person can name (country, then province or region, then territory or district).

The tree comes with the content (``flows/data/areas.yaml``, read by ``bot.content.files``) so a
hotline can add its own districts without touching a flow; ``parse_areas`` checks its text. A
flow asks for a place with one ``type: area`` state; the loader expands it here into one plain
menu per level, so the engine, the validation and every channel treat it like any other menu.
The data looks like::

    countries:
      - code: cd
        name: DR Congo
        below: province
        areas:
          - code: kwilu
            name: Kwilu
            below: territory
            areas:
              - {code: kikwit, name: Kikwit (city)}

Codes join down the tree: Kikwit is ``cd-kwilu-kikwit``. Country names are translated (they are
catalog entries); the names of places below are proper nouns and shown as written.

A place may give ``at: [latitude, longitude]``, its administrative centre: a location shared on
Telegram is turned into the nearest such place (``nearest``) and the coordinates dropped.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from bot.engine.model import AreaState, FlowDefinition, MenuState, Option

UNKNOWN = "unknown"
"""Recorded when a person cannot name even the country."""

_CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_MAX_DEPTH = 3
MAX_DISTANCE_KM = 150.0
"""How far from a place's centre a shared location may be and still be placed there."""
_EARTH_KM = 6371.0


@dataclass(frozen=True)
class Area:
    """One place: its full code, its name, and the places below it (named ``below``)."""

    code: str
    name: str
    below: str | None
    areas: tuple[Area, ...]
    at: tuple[float, float] | None = None
    """The administrative centre (latitude, longitude), when the data gives it."""
    depth: int = 1
    """1 for a country, 2 for a province or region, 3 below (codes may hold dashes themselves:
    ``cd-kasai-central`` is a province)."""

    def walk(self) -> Iterator[Area]:
        """This place and every place below it."""
        yield self
        for child in self.areas:
            yield from child.walk()


@dataclass(frozen=True)
class AreaTree:
    """Every country with its places, and a digest so flow versions change with the data."""

    countries: tuple[Area, ...]
    digest: str
    source: str
    """Where the data came from, as people read it in messages (a file path)."""

    def places(self) -> Iterator[Area]:
        """Every place, each country followed by the places below it."""
        for country in self.countries:
            yield from country.walk()

    def find(self, code: str) -> Area | None:
        """The place with this full code, or None."""
        return next((area for area in self.places() if area.code == code), None)

    def path(self, code: str) -> list[Area]:
        """The places from the country down to ``code`` (empty when unknown)."""
        for country in self.countries:
            found = _path_to(country, code)
            if found:
                return found
        return []

    def lookup(self, text: str) -> Area | None:
        """The place a person names: a full code, else a name or a last code part (any case;
        ``Kikwit`` finds ``Kikwit (ville)``), the highest level first; None when unknown."""
        wanted = " ".join(text.split()).casefold()
        if not wanted:
            return None
        found = self.find(wanted)
        if found is not None:
            return found
        for area in sorted(self.places(), key=lambda a: a.depth):
            name = area.name.casefold()
            plain = re.sub(r"\s*\(.*\)$", "", name)
            if wanted in (name, plain, area.code.rsplit("-", 1)[-1]):
                return area
        return None

    def code_of(self, text: str) -> str | None:
        """The code of the place a person names, or None (the ``area`` answer format)."""
        found = self.lookup(text)
        return found.code if found is not None else None

    def nearest(
        self, latitude: float, longitude: float, *, max_km: float = MAX_DISTANCE_KM
    ) -> Area | None:
        """The place a point is in, by centres: the nearest centre within ``max_km`` (the
        deeper place on a tie), then down to the nearest of its own places with a centre, so a
        point at a province's capital lands in the district around it. None when no centre
        is that close."""
        point = (latitude, longitude)
        best: tuple[float, int, Area] | None = None
        for area in self.places():
            if area.at is None:
                continue
            km = distance_km(point, area.at)
            if km <= max_km and (best is None or (km, -area.depth) < best[:2]):
                best = (km, -area.depth, area)
        if best is None:
            return None
        found = best[2]
        while True:
            below = [(distance_km(point, a.at), a) for a in found.areas if a.at is not None]
            if not below:
                return found
            found = min(below, key=lambda pair: pair[0])[1]


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points, in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * _EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def _path_to(area: Area, code: str) -> list[Area]:
    if area.code == code:
        return [area]
    for child in area.areas:
        below = _path_to(child, code)
        if below:
            return [area, *below]
    return []


class AreaDataError(ValueError):
    """The areas data file is unreadable or malformed; the message names the place."""


def parse_areas(text: str, source: str) -> AreaTree:
    """Check the areas data (YAML text); ``source`` names where it came from in messages."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise AreaDataError(f"cannot read areas data: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("countries"), list):
        raise AreaDataError("areas data must be a mapping with a list of 'countries'")
    countries = tuple(_area(item, "", 1) for item in data["countries"])
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    tree = AreaTree(countries, digest, source)
    codes = [a.code for a in tree.places()]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise AreaDataError(f"area code '{duplicates[0]}' is defined twice")
    return tree


def _area(item: Any, parent: str, depth: int) -> Area:
    where = f"under '{parent}'" if parent else "at country level"
    if not isinstance(item, dict) or not {"code", "name"} <= set(item):
        raise AreaDataError(f"an area {where} needs a code and a name, got {item!r}")
    unknown = set(item) - {"code", "name", "below", "areas", "at"}
    if unknown:
        raise AreaDataError(f"area '{item['code']}' {where}: unknown keys {sorted(unknown)}")
    code = str(item["code"])
    if not _CODE.match(code):
        raise AreaDataError(f"area code '{code}' {where}: use lower-case letters, digits and -")
    name = str(item["name"]).strip()
    if not name:
        raise AreaDataError(f"area '{code}' {where} has an empty name")
    full = f"{parent}-{code}" if parent else code
    children = item.get("areas") or []
    below = item.get("below")
    if children and depth >= _MAX_DEPTH:
        raise AreaDataError(f"area '{full}': at most {_MAX_DEPTH} levels")
    if bool(children) != bool(below):
        raise AreaDataError(f"area '{full}': 'below' names the level of its 'areas'; give both")
    if not isinstance(children, list):
        raise AreaDataError(f"area '{full}': 'areas' must be a list")
    areas = tuple(_area(child, full, depth + 1) for child in children)
    return Area(
        full,
        name,
        str(below) if below else None,
        areas,
        at=_centre(item.get("at"), full),
        depth=depth,
    )


def _centre(value: Any, code: str) -> tuple[float, float] | None:
    """``at: [latitude, longitude]`` checked, or None when not given."""
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise AreaDataError(f"area '{code}': 'at' must be [latitude, longitude] in degrees")
    latitude, longitude = float(value[0]), float(value[1])
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise AreaDataError(f"area '{code}': 'at' {value} is not a latitude and a longitude")
    return (latitude, longitude)


def level_kinds(tree: AreaTree) -> set[str]:
    """The names of every level below the countries (province, territory, district...)."""
    return {a.below for a in tree.places() if a.below}


def menu_state(name: str, area: Area) -> str:
    """The generated menu asking for the places below ``area``."""
    return f"{name}__{area.code.replace('-', '_')}"


def expand(definition: FlowDefinition, tree: AreaTree) -> FlowDefinition:
    """Replace each area state by its menus; raise AreaDataError if a level has no prompt."""
    states: dict[str, Any] = {}
    for name, state in definition.states.items():
        if not isinstance(state, AreaState):
            states[name] = state
            continue
        missing = sorted(level_kinds(tree) - set(state.prompts))
        if missing:
            raise AreaDataError(f"state '{name}': no prompt for level '{missing[0]}'")
        states.update(_menus(name, state, tree))
    return definition.model_copy(update={"states": states})


def _menus(name: str, state: AreaState, tree: AreaTree) -> dict[str, MenuState]:
    def option(area: Area, translate: bool) -> Option:
        return Option(
            label=area.name,
            translate=translate,
            do=[{"record": {"id": state.record, "value": area.code}}],
            next=menu_state(name, area) if area.areas else state.next,
        )

    def unknown(value: str) -> Option:
        return Option(
            label=state.unknown,
            do=[{"record": {"id": state.record, "value": value}}],
            next=state.next,
        )

    menus = {
        name: MenuState(
            type="menu",
            text=state.text,
            on_enter=state.on_enter,
            options=[*(option(c, True) for c in tree.countries), unknown(UNKNOWN)],
        )
    }
    for area in tree.places():
        if area.areas and area.below:
            menus[menu_state(name, area)] = MenuState(
                type="menu",
                text=state.prompts[area.below],
                options=[*(option(a, False) for a in area.areas), unknown(area.code)],
            )
    return menus


def area_states(definition: FlowDefinition) -> list[str]:
    """Names of the area states a flow still has to expand."""
    return [n for n, s in definition.states.items() if isinstance(s, AreaState)]
