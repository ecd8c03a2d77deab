"""Gettext catalogs for en, fr, ln, st, read and written with Babel.

Files: ``locales/messages.pot`` (template) and ``locales/<lang>/LC_MESSAGES/messages.po``; the
team web's own strings in a second domain, ``locales/web.pot`` and ``.../LC_MESSAGES/web.po``.
English is the source language: a flow's text is its own msgid.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, unescape, write_po

from bot.core.languages import LANGUAGES as LANGUAGES
from bot.i18n.ui import TOLL_FREE

log = logging.getLogger(__name__)

DOMAIN = "messages"
PLURAL_FORMS = {
    # Set by hand and written into every catalog whatever Babel says: its CLDR data changes
    # between releases (Lingala: (n != 1) up to 2.18, (n > 1) from 2.19; French: a third form
    # for large numbers in newer data, which left "2 parts" untranslated once).
    "en": "nplurals=2; plural=(n != 1);",
    "fr": "nplurals=2; plural=(n > 1);",
    "ln": "nplurals=2; plural=(n > 1);",  # Lingala counts 0 and 1 alike
    "st": "nplurals=2; plural=(n != 1);",
}


def po_path(locales: Path, lang: str, domain: str = DOMAIN) -> Path:
    """Where a language's catalog of ``domain`` lives (``messages``: the flows and channels;
    ``web``: the team web)."""
    return locales / lang / "LC_MESSAGES" / f"{domain}.po"


def template_path(locales: Path, domain: str = DOMAIN) -> Path:
    """Where the extracted template of ``domain`` lives."""
    return locales / f"{domain}.pot"


def forms(string: object) -> list[str]:
    """A message's translation as a list: its text, or each of its plural forms."""
    if isinstance(string, str):
        return [string]
    if isinstance(string, tuple | list):
        return [str(x) for x in string]
    return []


def translated(string: object) -> bool:
    """Is every form of a message's translation filled in?"""
    found = forms(string)
    return bool(found) and all(found)


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


def written_plural_forms(path: Path) -> str | None:
    """The Plural-Forms header as the PO file has it, or None if its header entry has none.

    A catalog read with Babel cannot tell: Babel fills a missing rule in from its CLDR data.
    """
    header: list[str] = []  # the header entry's msgstr, in quoted pieces
    seen = ""  # "" before the entry, then "msgid", then "msgstr"
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.strip()
        if not seen and (not line or line.startswith("#")):
            continue  # comments above the header entry
        if not seen and line == 'msgid ""':
            seen = "msgid"
        elif seen == "msgid" and line.startswith("msgstr "):
            seen = "msgstr"
            header.append(line.removeprefix("msgstr ").strip())
        elif seen == "msgstr" and line.startswith('"'):
            header.append(line)
        else:
            break  # the header entry is over, or the first entry has a msgid: no header
    if seen != "msgstr":
        return None
    for header_line in "".join(unescape(piece) for piece in header).splitlines():
        name, _, value = header_line.partition(":")
        if name.strip().lower() == "plural-forms":
            return value.strip()
    return None


def fix_plural_forms(catalog: Catalog, lang: str | None) -> None:
    """Set the plural rule we chose for a language, whatever Babel's CLDR data says."""
    rule = PLURAL_FORMS.get(lang or "")
    if rule is None:
        return
    headers = [(k, v) for k, v in catalog.mime_headers if k.lower() != "plural-forms"]
    catalog.mime_headers = [*headers, ("Plural-Forms", rule)]


@dataclass
class Catalogs:
    """Finished translations by language; untranslated text falls back to English.

    ``variants`` swaps a source text for another before it is looked up: a toll-free deployment
    says "free" (``ui.TOLL_FREE``) where any other says nothing about the cost.
    """

    messages: dict[str, dict[str, str]] = field(default_factory=dict)
    variants: dict[str, str] = field(default_factory=dict)

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

    def toll_free(self) -> Catalogs:
        """The same translations, saying "free" where the help is free to call."""
        return Catalogs(self.messages, dict(TOLL_FREE))

    def has(self, lang: str, msgid: str) -> bool:
        """Is there a finished translation (English always has its source text)?"""
        msgid = self.variants.get(msgid, msgid)
        return lang == "en" or msgid in self.messages.get(lang, {})

    def gettext(self, lang: str, msgid: str) -> str:
        """The text in a language, or the English source when it has no finished translation."""
        msgid = self.variants.get(msgid, msgid)
        found = self.messages.get(lang, {}).get(msgid)
        if found is not None:
            return found
        if lang != "en":
            log.warning("untranslated text shown in English (lang=%s)", lang)
        return msgid
