"""``hotline i18n check``: all strings translated, none fuzzy, placeholders intact, plurals set."""

from __future__ import annotations

import re
import string
from pathlib import Path

from babel.messages.catalog import Catalog

from bot.i18n.catalog import (
    DOMAIN,
    LANGUAGES,
    PLURAL_FORMS,
    forms,
    po_path,
    read_catalog,
    translated,
    written_plural_forms,
)
from bot.i18n.gsm7 import fold, is_gsm7, sms_parts
from bot.i18n.translate import Translate

PERCENT_NAMED = re.compile(r"%\((\w+)\)[sdif]")
"""A ``%(name)s`` placeholder (the team web's templates format their strings so)."""


def _placeholders(text: str) -> set[str] | None:
    try:
        found = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError:
        return None
    return found | {f"%({name})" for name in PERCENT_NAMED.findall(text)}


def _nplurals(rule: str) -> int:
    """How many forms a Plural-Forms rule has (0 when it cannot be read)."""
    found = re.search(r"nplurals\s*=\s*(\d+)", rule)
    return int(found.group(1)) if found else 0


def check_catalogs(locales: Path, template: Catalog, domain: str = DOMAIN) -> list[str]:
    """Problems in the catalogs of ``domain`` against the strings the code and flows use now."""
    problems: list[str] = []
    for lang in LANGUAGES:
        path = po_path(locales, lang, domain)
        if not path.exists():
            problems.append(f"{path}: missing catalog (run: hotline i18n update)")
            continue
        # The rule as the file has it: Babel, reading it, would fill in or repair a missing or
        # wrong one (from CLDR data that changes between releases) and hide it.
        expected_rule = PLURAL_FORMS.get(lang)
        written_rule = written_plural_forms(path)
        if expected_rule and written_rule is None:
            problems.append(f"{path}: no Plural-Forms header, expected {expected_rule!r}")
        elif expected_rule and written_rule != expected_rule:
            problems.append(f"{path}: Plural-Forms is {written_rule!r}, expected {expected_rule!r}")
        catalog = read_catalog(path, lang)
        nplurals = _nplurals(written_rule or expected_rule or "")
        for source in template:
            if not source.id:
                continue
            singular, plural = (
                (source.id, None) if isinstance(source.id, str) else (source.id[0], source.id[1])
            )
            where = ", ".join(f"{f}:{n}" for f, n in source.locations[:2])
            message = catalog.get(singular)
            strings = forms(message.string) if message is not None else []
            if message is None or not translated(message.string):
                problems.append(f"{path}: missing translation of {singular!r} ({where})")
                continue
            if message.fuzzy:
                problems.append(f"{path}: fuzzy translation of {singular!r} ({where})")
                continue
            if plural is None:
                if _placeholders(strings[0]) != _placeholders(singular):
                    problems.append(
                        f"{path}: placeholders differ in translation of {singular!r}: "
                        f"{strings[0]!r} ({where})"
                    )
                continue
            if nplurals and len(strings) != nplurals:
                problems.append(
                    f"{path}: {len(strings)} plural forms of {singular!r}, the rule has {nplurals}"
                    f" ({where})"
                )
            allowed = (_placeholders(singular) or set()) | (_placeholders(plural) or set())
            for text in strings:
                found = _placeholders(text)
                if found is None or not found <= allowed:
                    problems.append(
                        f"{path}: placeholders differ in translation of {singular!r}: "
                        f"{text!r} ({where})"
                    )
    return problems


def check_one_part(
    tr: Translate, msgids: tuple[str, ...], samples: dict[str, str], *, where: str = ""
) -> list[str]:
    """SMS texts that would need more than one part in some language (GSM-7 after folding,
    each placeholder at its longest sample value): an on-call alert, a partner's code or a
    shift notice must arrive whole on a basic phone."""
    problems: list[str] = []
    for lang in LANGUAGES:
        for msgid in msgids:
            try:
                text = fold(tr(lang, msgid).format(**samples), lang)
            except (KeyError, IndexError, ValueError):
                continue  # a broken placeholder: check_catalogs names it
            parts = sms_parts(text)
            if parts > 1 or not is_gsm7(text):
                problems.append(
                    f"{where}{lang}: {msgid!r} needs {parts} SMS parts "
                    f"({len(text)} characters with the longest values); it must fit one"
                )
    return problems
