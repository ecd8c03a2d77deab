"""Gettext catalogs for en, fr, ln, st, read and written with Babel.

Files: ``locales/messages.pot`` (template) and ``locales/<lang>/LC_MESSAGES/messages.po``.
English is the source language: a flow's text is its own msgid.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

log = logging.getLogger(__name__)

LANGUAGES = ("en", "fr", "ln", "st")
DOMAIN = "messages"
PLURAL_FORMS = {
    # Babel's CLDR data gives Lingala (n != 1); Lingala counts 0 and 1 alike, so set by hand.
    "ln": "nplurals=2; plural=(n > 1);",
}


def po_path(locales: Path, lang: str) -> Path:
    """Where a language's catalog lives."""
    return locales / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def template_path(locales: Path) -> Path:
    """Where the extracted template lives."""
    return locales / f"{DOMAIN}.pot"


def read_catalog(path: Path, lang: str | None = None) -> Catalog:
    """Read a PO/POT file with Babel, fixing plural forms Babel gets wrong."""
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    fix_plural_forms(catalog, lang)
    return catalog


def write_catalog(path: Path, catalog: Catalog) -> None:
    """Write a PO/POT file with Babel (sorted by location, so diffs stay reviewable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_by_file=True, include_previous=True)


def fix_plural_forms(catalog: Catalog, lang: str | None) -> None:
    """Set the plural rule by hand where CLDR's is wrong for the hotline's users."""
    rule = PLURAL_FORMS.get(lang or "")
    if rule is None:
        return
    headers = [(k, v) for k, v in catalog.mime_headers if k.lower() != "plural-forms"]
    catalog.mime_headers = [*headers, ("Plural-Forms", rule)]


@dataclass
class Catalogs:
    """Finished translations by language; untranslated text falls back to English."""

    messages: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, locales: Path) -> Catalogs:
        """Read every language's PO file; fuzzy and empty entries are not used."""
        messages: dict[str, dict[str, str]] = {}
        for lang in LANGUAGES:
            path = po_path(locales, lang)
            entries: dict[str, str] = {}
            if path.exists():
                for message in read_catalog(path, lang):
                    if (
                        message.id
                        and isinstance(message.id, str)
                        and isinstance(message.string, str)
                        and message.string
                        and not message.fuzzy
                    ):
                        entries[message.id] = message.string
            messages[lang] = entries
        return cls(messages)

    def has(self, lang: str, msgid: str) -> bool:
        """Is there a finished translation (English always has its source text)?"""
        return lang == "en" or msgid in self.messages.get(lang, {})

    def gettext(self, lang: str, msgid: str) -> str:
        """The text in a language, or the English source when it has no finished translation."""
        found = self.messages.get(lang, {}).get(msgid)
        if found is not None:
            return found
        if lang != "en":
            log.warning("untranslated text shown in English (lang=%s)", lang)
        return msgid
