"""Formats a free-text answer must have, registered by the name used in flow files.

A format turns what a person typed into its normal form (``k7qm 46`` -> ``K7QM-46``), or None
when it cannot be one; the screen is then shown again with the format's hint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.cases import reference
from bot.engine.areas import known_area
from bot.i18n import ui


@dataclass(frozen=True)
class Format:
    """How to normalise an answer, and the hint shown when it does not fit."""

    normalise: Callable[[str], str | None]
    hint: str


FORMATS: dict[str, Format] = {
    "reference": Format(reference.normalise, ui.HINT_REFERENCE),
    "area": Format(known_area, ui.HINT_LOCATION),  # an area code or name; Telegram: a location
}
