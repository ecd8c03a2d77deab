"""Places a person can name (country, then province or region, then territory or district).

The tree comes from a data file (``flows/data/areas.yaml``) so a hotline can add its own
districts without touching a flow. A flow asks for a place with one ``type: area`` state; the
loader expands it here into one plain menu per level, so the engine, the validation and every
channel treat it like any other menu. The file looks like::

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
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.engine.model import AreaState, FlowDefinition, MenuState, Option

UNKNOWN = "unknown"
"""Recorded when a person cannot name even the country."""

_CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_MAX_DEPTH = 3


@dataclass(frozen=True)
class Area:
    """One place: its full code, its name, and the places below it (named ``below``)."""

    code: str
    name: str
    below: str | None
    areas: tuple[Area, ...]

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
    file: str

    def find(self, code: str) -> Area | None:
        """The place with this full code, or None."""
        for country in self.countries:
            for area in country.walk():
                if area.code == code:
                    return area
        return None

    def path(self, code: str) -> list[Area]:
        """The places from the country down to ``code`` (empty when unknown)."""
        for country in self.countries:
            found = _path_to(country, code)
            if found:
                return found
        return []


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


def load_areas(path: Path) -> AreaTree:
    """Read and check the areas data file."""
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise AreaDataError(f"cannot read areas data: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("countries"), list):
        raise AreaDataError("areas data must be a mapping with a list of 'countries'")
    countries = tuple(_area(item, "", 1) for item in data["countries"])
    codes = [a.code for c in countries for a in c.walk()]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise AreaDataError(f"area code '{duplicates[0]}' is defined twice")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return AreaTree(countries, digest, str(path))


def _area(item: Any, parent: str, depth: int) -> Area:
    where = f"under '{parent}'" if parent else "at country level"
    if not isinstance(item, dict) or not {"code", "name"} <= set(item):
        raise AreaDataError(f"an area {where} needs a code and a name, got {item!r}")
    unknown = set(item) - {"code", "name", "below", "areas"}
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
    return Area(full, name, str(below) if below else None, areas)


def level_kinds(tree: AreaTree) -> set[str]:
    """The names of every level below the countries (province, territory, district...)."""
    return {a.below for c in tree.countries for a in c.walk() if a.below}


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
    for country in tree.countries:
        for area in country.walk():
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
