"""Collect every user-facing string (flows and code) into the template; merge into catalogs.

Two domains: ``messages`` (flows, channels: ``extract``) and ``web`` (the team web's templates
and ``admin/*.py``: ``extract_web``), each with its template and a catalog per language.
"""

from __future__ import annotations

import copy
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir

from bot.content.files import areas_beside, load_file
from bot.engine.areas import AreaDataError, AreaTree
from bot.engine.validate import flow_texts
from bot.i18n.catalog import (
    DOMAIN,
    LANGUAGES,
    fix_plural_forms,
    po_path,
    read_catalog,
    template_path,
    translated,
    write_catalog,
)

PROJECT = "Hotline"
KEYWORDS = {"N_": None}


def extract(flow_files: list[Path], code_dir: Path, root: Path) -> Catalog:
    """A template with each flow text and each ``N_("...")`` string, with where it is used."""
    template = Catalog(project=PROJECT, fuzzy=False)
    for filename, lineno, message, comments, _context in extract_from_dir(
        code_dir,
        method_map=[("**.py", "python")],
        keywords=KEYWORDS,
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    ):
        location = ((code_dir / filename).relative_to(root).as_posix(), lineno)
        template.add(message, locations=[location], auto_comments=comments)
    trees: dict[Path, AreaTree | None] = {}
    for path in flow_files:
        if path.parent not in trees:  # the areas data beside the flows, read once per folder
            try:
                trees[path.parent] = areas_beside(path.parent)
            except AreaDataError:
                trees[path.parent] = None  # load_file reads it again and says what is wrong
        loaded = load_file(path, trees[path.parent])
        for state, text in flow_texts(loaded.definition):
            location = (_relative(path, root), loaded.lines.get(state, 0))
            existing = template.get(text)
            comment = f"flow {loaded.name}, screen {state}"
            if existing is None:
                template.add(text, locations=[location], auto_comments=[comment])
            else:
                existing.locations.append(location)
                existing.auto_comments.append(comment)
    return template


WEB_DOMAIN = "web"
WEB_KEYWORDS = {"N_": None, "_": None, "gettext": None, "ngettext": (1, 2)}
WEB_METHODS = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]


def extract_web(admin_dir: Path, root: Path) -> Catalog:
    """The team web's template: each ``_()``/``gettext``/``ngettext`` of ``admin/templates``
    and each ``N_("...")`` of ``admin/**.py``, with where it is used."""
    template = Catalog(project=PROJECT, fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        admin_dir,
        method_map=WEB_METHODS,
        options_map={"templates/**.html": {"trimmed": "true"}},
        keywords=WEB_KEYWORDS,
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    ):
        location = ((admin_dir / filename).relative_to(root).as_posix(), lineno)
        template.add(message, locations=[location], auto_comments=comments, context=context)
    return template


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def update(locales: Path, template: Catalog, domain: str = DOMAIN) -> list[str]:
    """Write the template and merge it into each language; returns a line per file written.

    New strings arrive empty (or English for ``en``) so ``hotline i18n check`` points at them;
    translations that no longer match a string are kept as obsolete entries for reuse.
    """
    written = []
    write_catalog(template_path(locales, domain), template)
    for lang in LANGUAGES:
        path = po_path(locales, lang, domain)
        if path.exists():
            catalog = read_catalog(path, lang)
        else:
            catalog = Catalog(locale=lang, project=PROJECT, fuzzy=False)
        # Babel shares the template's message objects with the catalog it updates: copy first.
        catalog.update(copy.deepcopy(template), no_fuzzy_matching=True)
        fix_plural_forms(catalog, lang)
        if lang == "en":  # English is the source: its text is the msgid (both forms)
            for message in catalog:
                if message.id and not translated(message.string):
                    message.string = message.id
        write_catalog(path, catalog)
        todo = sum(1 for m in catalog if m.id and (not translated(m.string) or m.fuzzy))
        written.append(f"{path}: {len(template)} strings, {todo} to translate")
    return written
