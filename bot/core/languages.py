"""The hotline's languages: the one list every part uses (DESIGN §6).

English is the source language; the others are translations of it. ``NAMES`` is how each
language names itself on the first screen, in plain ASCII so a GSM-7 handset shows it:
``1 English 2 Francais 3 Lingala 4 Sesotho``.
"""

from __future__ import annotations

from typing import Final, Literal, TypeGuard

Language = Literal["en", "fr", "ln", "st"]
"""A language code, as a type (pydantic models and settings validate against it)."""

LANGUAGES: Final[tuple[str, ...]] = ("en", "fr", "ln", "st")
"""Every language, the source first, in the order of the first screen (as ``Language``'s)."""

SOURCE: Final = "en"
"""The language flows are written in (a text's msgid)."""

NAMES: Final[dict[str, str]] = {
    "en": "English",
    "fr": "Francais",
    "ln": "Lingala",
    "st": "Sesotho",
}
"""Each language in its own name, plain ASCII, as the first screen shows it."""


def is_language(code: object) -> TypeGuard[Language]:
    """Is ``code`` one of the hotline's language codes (exactly: lowercase, no region)?"""
    return isinstance(code, str) and code in LANGUAGES


def check_language(code: str, what: str = "lang") -> Language:
    """``code`` when it is a hotline language, else ValueError naming ``what``."""
    if not is_language(code):
        raise ValueError(f"{what} must be one of {', '.join(LANGUAGES)}")
    return code
