"""Formats a free-text answer must have, by the name used in flow files.

A format turns what a person typed into its normal form (``k7qm 46`` -> ``K7QM-46``), or None
when it cannot be one; the screen is then shown again with the format's hint.

The formats come with the content: ``answer_formats(areas)`` builds them from the area tree the
flows were loaded with, and validation and the runner (through the ``FlowRegistry``) are given
them. Nothing is registered here.

Reference codes (``K7QM-46``): four characters and two digits from an alphabet without
look-alikes (no 0/O, 1/I/L, 2/Z, 5/S, 8/B); ``bot.cases.reference`` makes new ones from it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bot.engine.areas import AreaTree
from bot.i18n import ui

REFERENCE_LETTERS = "ACDEFGHJKMNPQRTUVWXY3479"
REFERENCE_DIGITS = "34679"
REFERENCE_PATTERN = re.compile(rf"^[{REFERENCE_LETTERS}]{{4}}-[{REFERENCE_DIGITS}]{{2}}$")


def normalise_reference(typed: str) -> str | None:
    """A code as a person typed it (``k7qm 46``, ``K7QM46``), or None when it cannot be one."""
    compact = re.sub(r"[^A-Z0-9]", "", typed.upper())
    if len(compact) != 6:
        return None
    code = f"{compact[:4]}-{compact[4:]}"
    return code if REFERENCE_PATTERN.match(code) else None


@dataclass(frozen=True)
class Format:
    """How to normalise an answer, and the hint shown when it does not fit."""

    normalise: Callable[[str], str | None]
    hint: str


Formats = Mapping[str, Format]
"""Formats by the name flow files use (``format: reference``)."""


def answer_formats(areas: AreaTree | None = None) -> Formats:
    """The formats flows may name: ``reference`` always; ``area`` (a place's code or name;
    on Telegram a shared location) when there is areas data to find places in."""
    found = {"reference": Format(normalise_reference, ui.HINT_REFERENCE)}
    if areas is not None:
        found["area"] = Format(areas.code_of, ui.HINT_LOCATION)
    return MappingProxyType(found)
