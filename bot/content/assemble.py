"""Stored flow texts made into what a process runs and what validation checks.

A stored version holds a flow's YAML and the translations of its own texts. What it runs with
but does not hold comes from the files, as code does: the code's own strings (navigation labels,
hints, case words) translated in ``locales/<lang>/LC_MESSAGES/messages.po``, and the areas data
``flows/data/areas.yaml`` (``Base``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from bot.content.files import AREAS_FILE, Content, read_areas
from bot.content.store import TRANSLATED, Translations, Version
from bot.engine.areas import AreaTree
from bot.engine.compile import compile_flow
from bot.engine.formats import answer_formats
from bot.engine.loader import FlowLoadError, FlowYamlLoader, LoadedFlow, load_text
from bot.engine.registry import FlowRegistry
from bot.engine.validate import flow_texts
from bot.i18n.catalog import LANGUAGES, Catalogs, po_path, read_catalog


@dataclass(frozen=True)
class Base:
    """What every stored version runs with: the code's strings translated, and the areas data."""

    ui: dict[str, dict[str, str]]
    """Language -> the code's own strings (a ``.py`` location in the catalog) -> translation."""
    areas: AreaTree | None
    toll_free: bool = False
    """The screens say the help is free (``HOTLINE_TOLL_FREE``)."""

    def catalogs(self, translations: Iterable[Translations]) -> Catalogs:
        """The code's strings with the finished translations of the given flows on top (a text
        two flows share takes the later flow's wording)."""
        messages = {lang: dict(self.ui.get(lang, {})) for lang in LANGUAGES}
        for flow in translations:
            for lang, entries in flow.items():
                messages.setdefault(lang, {}).update(
                    (msgid, e.text) for msgid, e in entries.items() if e.finished
                )
        catalogs = Catalogs(messages)
        return catalogs.toll_free() if self.toll_free else catalogs


def code_strings(locales: Path) -> dict[str, dict[str, str]]:
    """The finished translations of the code's own strings: entries of ``messages.po`` used in a
    ``.py`` file (flow texts belong to the flows' versions). A catalog without locations
    counts as the code's entirely."""
    found: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        path = po_path(locales, lang)
        entries: dict[str, str] = {}
        if path.exists():
            catalog = read_catalog(path, lang)
            located = any(m.locations for m in catalog if m.id)
            for message in catalog:
                if not message.id or not isinstance(message.id, str):
                    continue
                if located and not any(f.endswith(".py") for f, _ in message.locations):
                    continue
                if isinstance(message.string, str) and message.string and not message.fuzzy:
                    entries[message.id] = message.string
        found[lang] = entries
    return found


@functools.cache
def load_base(flows: Path, locales: Path, toll_free: bool = False) -> Base:
    """The base of a deployment's files, read once per process (AreaDataError if broken)."""
    path = flows / AREAS_FILE
    areas = read_areas(path) if path.exists() else None
    return Base(code_strings(locales), areas, toll_free)


def default_base() -> Base:
    """The base of the settings' ``HOTLINE_FLOWS_DIR`` / ``HOTLINE_LOCALES_DIR``."""
    from bot.core.settings import Settings

    settings = Settings()
    return load_base(settings.flows_dir, settings.locales_dir, settings.toll_free)


def source_name(flow: str, number: int | None) -> str:
    """How issues name a stored flow: ``main@3`` for version 3, ``main@draft`` for its draft."""
    return f"{flow}@{number if number is not None else 'draft'}"


PARSED_KEPT = 256
"""Parsed flow texts kept per process: YAML parsing is most of a check's time, and the other
flows' published versions are checked with every draft."""
_parsed: OrderedDict[tuple[str, str, str | None], LoadedFlow] = OrderedDict()
_parsed_lock = threading.Lock()


def parse(source: str, name: str, areas: AreaTree | None) -> LoadedFlow:
    """A stored flow text parsed (once per process while in use); FlowLoadError names ``name``
    and the lines."""
    key = (source, name, areas.digest if areas is not None else None)
    with _parsed_lock:
        found = _parsed.get(key)
        if found is not None:
            _parsed.move_to_end(key)
            return found
    loaded = load_text(source, name, areas)
    with _parsed_lock:
        _parsed[key] = loaded
        if len(_parsed) > PARSED_KEPT:
            _parsed.popitem(last=False)
    return loaded


def yaml_field(source: str, key: str) -> object:
    """One top-level field of a flow's YAML (None when absent or when the text does not parse)."""
    try:
        data = yaml.load(source, Loader=FlowYamlLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError:
        return None
    return data.get(key) if isinstance(data, dict) else None


def flow_name(source: str) -> str | None:
    """The ``flow:`` name a YAML text declares (None when it does not parse that far)."""
    name = yaml_field(source, "flow")
    return name if isinstance(name, str) and name else None


def screen_texts(loaded: LoadedFlow) -> Iterator[tuple[str, str]]:
    """(state, English text) for every text of a flow that is translated, in order."""
    return flow_texts(loaded.definition)


def msgids(loaded: LoadedFlow) -> list[str]:
    """The English texts a flow asks to translate, once each, in order."""
    return list(dict.fromkeys(text for _, text in screen_texts(loaded)))


def digest_of(loaded: LoadedFlow, translations: Translations) -> str:
    """A version's digest: its parsed version (source and areas) and its finished wording in
    every language, so a session finds the words it started with."""
    wording = {
        lang: {m: e.text for m, e in sorted(translations.get(lang, {}).items()) if e.finished}
        for lang in TRANSLATED
    }
    blob = loaded.version + json.dumps(wording, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


def loaded_version(version: Version, areas: AreaTree | None) -> LoadedFlow:
    """A stored version parsed, carrying its stored digest as its version."""
    loaded = parse(version.source, source_name(version.flow, version.number), areas)
    return replace(loaded, version=version.digest)


def content_of(base: Base, versions: list[Version]) -> Content:
    """The versions given compiled into one set to run (they passed validation when published;
    FlowLoadError if one no longer parses with today's areas data)."""
    loaded: list[LoadedFlow] = []
    issues = []
    for version in versions:
        try:
            loaded.append(loaded_version(version, base.areas))
        except FlowLoadError as exc:
            issues.extend(exc.issues)
    if issues:
        raise FlowLoadError(issues)
    catalogs = base.catalogs(v.translations for v in versions)
    registry = FlowRegistry((compile_flow(f) for f in loaded), answer_formats(base.areas))
    return Content(registry, catalogs, base.areas)
