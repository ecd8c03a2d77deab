"""``hotline i18n check``: all strings translated, none fuzzy, placeholders intact, plurals set."""

from __future__ import annotations

import string
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot.i18n.catalog import LANGUAGES, PLURAL_FORMS, po_path


def _placeholders(text: str) -> set[str] | None:
    try:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError:
        return None


def check_catalogs(locales: Path, template: Catalog) -> list[str]:
    """Problems in the catalogs against the strings the code and flows use now."""
    problems: list[str] = []
    for lang in LANGUAGES:
        path = po_path(locales, lang)
        if not path.exists():
            problems.append(f"{path}: missing catalog (run: hotline i18n update)")
            continue
        # Read as written: read_catalog would repair the plural rule and hide a wrong one.
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        expected_rule = PLURAL_FORMS.get(lang)
        if expected_rule and catalog.plural_forms != expected_rule:
            problems.append(
                f"{path}: Plural-Forms is {catalog.plural_forms!r}, expected {expected_rule!r}"
            )
        for source in template:
            if not source.id or not isinstance(source.id, str):
                continue
            where = ", ".join(f"{f}:{n}" for f, n in source.locations[:2])
            message = catalog.get(source.id)
            if message is None or not message.string:
                problems.append(f"{path}: missing translation of {source.id!r} ({where})")
                continue
            if message.fuzzy:
                problems.append(f"{path}: fuzzy translation of {source.id!r} ({where})")
                continue
            translated = message.string if isinstance(message.string, str) else ""
            if _placeholders(translated) != _placeholders(source.id):
                problems.append(
                    f"{path}: placeholders differ in translation of {source.id!r}: "
                    f"{translated!r} ({where})"
                )
    return problems
