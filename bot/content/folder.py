"""Flows with their translations read from, and written back to, the repository's layout:
``flows/*.yaml`` (+ ``flows/data/areas.yaml``) and ``locales/<lang>/LC_MESSAGES/messages.po``.

The seed of version 1, ``hotline flows import DIR`` and ``hotline flows export DIR`` use it. A
translation's status travels as a translator comment, so the files stay ordinary PO files that
``hotline i18n check`` passes: ``# review: <note>`` (needs native review, today's convention),
``# reviewed: <who>[, <when>]``, ``# draft: <who>[, <when>]``; an entry without one is reviewed
(by whoever imports the files); an empty one is missing.
"""

from __future__ import annotations

import io
import shutil
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import PoFileError, read_po

from bot.content.assemble import msgids, screen_texts
from bot.content.files import AREAS_FILE, display_path, flow_files, read_areas
from bot.content.store import MISSING, TRANSLATED, Entry, Status, Translations, Version
from bot.engine.areas import AreaDataError, AreaTree
from bot.engine.loader import FlowLoadError, load_text
from bot.i18n.catalog import (
    LANGUAGES,
    fix_plural_forms,
    po_path,
    read_catalog,
    template_path,
    write_catalog,
)

PROJECT = "Hotline"


class ImportRefused(Exception):
    """Files that cannot be taken in; nothing was: each problem names file, entry and reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class FileFlow:
    """A flow as read from the files: its YAML and its translations with their statuses."""

    flow: str
    source: str
    translations: Translations
    path: str


def status_comments(entry: Entry) -> list[str]:
    """The translator comments that carry an entry's status in a PO file."""
    when = f", {entry.at.isoformat()}" if entry.at else ""
    if entry.status is Status.NEEDS_REVIEW:
        return [f"review: {entry.note or 'needs native review'}"]
    if entry.status is Status.REVIEWED:
        return [f"reviewed: {entry.by or 'files'}{when}"]
    if entry.status is Status.DRAFT:
        return [f"draft: {entry.by or 'files'}{when}"]
    return []


def _who_when(rest: str) -> tuple[str | None, datetime | None]:
    who, _, when = rest.partition(",")
    try:
        at = datetime.fromisoformat(when.strip()) if when.strip() else None
    except ValueError:
        at = None
    return who.strip() or None, at


def entry_of(message: Message | None, *, by: str, now: datetime | None) -> Entry:
    """A PO entry as a translation with its status (see the module's conventions)."""
    if message is None or not isinstance(message.string, str) or not message.string:
        return MISSING
    text = message.string
    comments = [c.strip() for c in message.user_comments]
    for i, comment in enumerate(comments):
        marker, _, rest = comment.partition(":")
        if marker == "review":
            note = " ".join([rest.strip(), *comments[i + 1 :]]).strip()
            return Entry(text, Status.NEEDS_REVIEW, note=note or None)
        if marker in ("reviewed", "draft"):
            who, at = _who_when(rest)
            status = Status.REVIEWED if marker == "reviewed" else Status.DRAFT
            return Entry(text, status, who, at)
    if message.fuzzy:
        return Entry(text, Status.NEEDS_REVIEW)
    return Entry(text, Status.REVIEWED, by, now)


def _placeholders(text: str) -> set[str] | None:
    try:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError:
        return None


def placeholder_problem(msgid: str, text: str) -> str | None:
    """Why a translation's ``{placeholders}`` do not match its English, or None."""
    if not text:
        return None
    mine, english = _placeholders(text), _placeholders(msgid)
    if mine is None:
        return f"broken placeholder in {text!r}"
    if mine != english:
        return f"placeholders {sorted(mine)} differ from the English {sorted(english or ())}"
    return None


def parse_po(data: bytes, name: str, lang: str) -> Catalog:
    """A PO file's catalog; ImportRefused with the line when it is not a PO file."""
    try:
        catalog = read_po(io.BytesIO(data), locale=lang, abort_invalid=True)
    except PoFileError as exc:
        raise ImportRefused([f"{name}:{exc.lineno}: not a PO file: {exc}"]) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ImportRefused([f"{name}: not a PO file: {exc}"]) from None
    return catalog


def read_folder(
    flows: Path, locales: Path, *, by: str, now: datetime | None, areas: AreaTree | None = None
) -> list[FileFlow]:
    """Every flow file with its translations from the catalogs beside it; ImportRefused listing
    every problem (a file that does not load, a catalog that does not parse, a translation whose
    placeholders differ from the English). ``areas``: used when the folder has no areas data."""
    problems: list[str] = []
    if (flows / AREAS_FILE).exists():
        try:
            areas = read_areas(flows / AREAS_FILE)
        except AreaDataError as exc:
            problems.append(f"{display_path(flows / AREAS_FILE)}: {exc}")
    catalogs: dict[str, Catalog] = {}
    for lang in TRANSLATED:
        path = po_path(locales, lang)
        if path.exists():
            try:
                catalogs[lang] = parse_po(path.read_bytes(), display_path(path), lang)
            except ImportRefused as exc:
                problems.extend(exc.problems)
    found: dict[str, FileFlow] = {}
    files = flow_files([flows]) if flows.is_dir() else []
    if not files:
        problems.append(f"{display_path(flows)}: no flow files found")
    for path in files:
        name = display_path(path)
        try:
            source = path.read_text(encoding="utf-8")
            loaded = load_text(source, name, areas)
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{name}: cannot read file: {exc}")
            continue
        except FlowLoadError as exc:
            problems.extend(str(issue) for issue in exc.issues)
            continue
        if loaded.name in found:
            problems.append(f"{name}: flow '{loaded.name}' is also in {found[loaded.name].path}")
            continue
        translations: Translations = {}
        for lang in TRANSLATED:
            catalog = catalogs.get(lang)
            entries: dict[str, Entry] = {}
            for msgid in msgids(loaded):
                entry = entry_of(catalog.get(msgid) if catalog else None, by=by, now=now)
                problem = placeholder_problem(msgid, entry.text)
                if problem:
                    where = display_path(po_path(locales, lang))
                    problems.append(f"{where}: {msgid!r}: {problem}")
                entries[msgid] = entry
            translations[lang] = entries
        found[loaded.name] = FileFlow(loaded.name, source, translations, name)
    if problems:
        raise ImportRefused(problems)
    return [found[name] for name in sorted(found)]


def _code_messages(locales: Path, lang: str) -> Iterable[Message]:
    """The entries of the code's own strings in the files' catalog (a ``.py`` location)."""
    path = po_path(locales, lang)
    if not path.exists():
        return []
    return [
        m
        for m in read_catalog(path, lang)
        if m.id and any(f.endswith(".py") for f, _ in m.locations)
    ]


def _catalog(lang: str | None) -> Catalog:
    catalog = Catalog(locale=lang, project=PROJECT, fuzzy=False)
    fix_plural_forms(catalog, lang)
    return catalog


def write_folder(
    target: Path, versions: list[Version], *, locales: Path, areas_file: Path | None
) -> list[str]:
    """Write versions as ``target/flows/<flow>.yaml`` and ``target/locales/…/messages.po`` (with
    the code's strings as the files ``locales`` have them); a line per file, and one per text two
    flows translate differently (the first flow's wording is written)."""
    lines: list[str] = []
    flows_dir = target / "flows"
    flows_dir.mkdir(parents=True, exist_ok=True)
    if areas_file is not None and areas_file.exists():
        (flows_dir / AREAS_FILE).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(areas_file, flows_dir / AREAS_FILE)
        lines.append(f"{flows_dir / AREAS_FILE}: areas data")
    for version in versions:
        path = flows_dir / f"{version.flow}.yaml"
        path.write_text(version.source, encoding="utf-8")
        lines.append(f"{path}: {version.flow} version {version.number}")
    areas = read_areas(areas_file) if areas_file is not None and areas_file.exists() else None
    out = target / "locales"
    for lang in (None, *LANGUAGES):
        catalog = _catalog(lang)
        for message in _code_messages(locales, lang or "en"):
            catalog.add(
                message.id,
                "" if lang is None else message.string,
                locations=[loc for loc in message.locations if loc[0].endswith(".py")],
                user_comments=[] if lang is None else list(message.user_comments),
                auto_comments=list(message.auto_comments),
            )
        for version in versions:
            lines.extend(_add_version(catalog, version, lang, areas))
        path = template_path(out) if lang is None else po_path(out, lang)
        write_catalog(path, catalog)
        lines.append(f"{path}: {len(catalog)} strings")
    return lines


def _add_version(
    catalog: Catalog, version: Version, lang: str | None, areas: AreaTree | None
) -> list[str]:
    """Add one version's texts to a language's catalog; a line per conflicting wording."""
    loaded = load_text(version.source, f"flows/{version.flow}.yaml", areas)
    conflicts: list[str] = []
    for state, text in screen_texts(loaded):
        location = (f"flows/{version.flow}.yaml", loaded.lines.get(state, 0))
        comment = f"flow {version.flow}, screen {state}"
        entry = version.translations.get(lang or "", {}).get(text, MISSING)
        string = "" if lang is None else (text if lang == "en" else entry.text)
        existing = catalog.get(text)
        if existing is None:
            comments = [] if lang in (None, "en") else status_comments(entry)
            catalog.add(
                text, string, locations=[location], auto_comments=[comment], user_comments=comments
            )
            continue
        if location not in existing.locations:
            existing.locations.append(location)
            existing.auto_comments.append(comment)
        if lang not in (None, "en") and existing.string != string and entry.finished:
            conflicts.append(
                f"{lang}: {text!r}: {version.flow} says {string!r}, kept {existing.string!r}"
            )
    return conflicts
