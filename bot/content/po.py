"""One flow's translations into one language as an ordinary PO file, for translators' tools.

Export: each English text of the flow (in the flow's order, with its screen) and its translation;
an entry that needs native review is marked ``fuzzy`` (PO tools show it as "needs work") and
keeps the reviewer's note as a ``# review:`` comment; ``# reviewed:`` and ``# draft:`` comments
say who and when. Import into the flow's draft, previewed first: an entry whose text changed
becomes ``draft``; one still fuzzy stays (or becomes) ``needs_review``; clearing the fuzzy mark
of an unchanged entry that needed review marks it ``reviewed`` by whoever imports the file. An
empty translation in the file changes nothing. Refused whole: a file that is not PO, for another
language, a text the flow does not have, or a translation whose ``{placeholders}`` differ.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from sqlmodel import Session

from bot.content.assemble import Base, default_base, parse, screen_texts, source_name
from bot.content.drafts import StaleDraft, get_draft, next_revision, texts_of
from bot.content.folder import ImportRefused, parse_po, placeholder_problem, status_comments
from bot.content.store import MISSING, TRANSLATED, Draft, Entry, Status, Version
from bot.governance import audit
from bot.i18n.catalog import fix_plural_forms

PROJECT = "Hotline"


@dataclass(frozen=True)
class PoChange:
    """One entry an import would change: ``changed``, ``new``, ``reviewed`` or ``needs_review``."""

    msgid: str
    kind: str
    before: Entry
    after: Entry


@dataclass(frozen=True)
class PoPreview:
    """What importing a PO file into a draft would do, or why it is refused."""

    flow: str
    lang: str
    revision: int
    """The draft revision the preview was made on (apply names it: stale otherwise)."""
    changes: list[PoChange]
    refused: list[str]
    """Each problem with the file's line; any problem refuses the whole file."""

    @property
    def ok(self) -> bool:
        """May it be applied?"""
        return not self.refused


def file_name(flow: str, number: int | None, lang: str) -> str:
    """The exported file's name: ``main-3.fr.po`` (``main-draft.fr.po`` for a draft)."""
    return f"{flow}-{number if number is not None else 'draft'}.{lang}.po"


def export_po(content: Version | Draft, lang: str, base: Base | None = None) -> bytes:
    """A published version's (or a draft's) texts and their translations into ``lang``."""
    if lang not in TRANSLATED:
        raise ValueError(f"PO files are for {', '.join(TRANSLATED)}, not {lang!r}")
    base = base or default_base()
    number = content.number if isinstance(content, Version) else None
    loaded = parse(content.source, source_name(content.flow, number), base.areas)
    catalog = Catalog(locale=lang, project=PROJECT, version=f"{content.flow} {number or 'draft'}")
    fix_plural_forms(catalog, lang)
    catalog.header_comment = (
        f"# {content.flow} ({'version ' + str(number) if number else 'draft'}), {lang}.\n"
        "# Entries marked fuzzy need native review: clear the mark once checked.\n"
        "# Keep every {placeholder} as it is in the English."
    )
    entries = content.translations.get(lang, {})
    for state, text in screen_texts(loaded):
        location = (f"{content.flow}.yaml", loaded.lines.get(state, 0))
        comment = f"screen {state}"
        existing = catalog.get(text)
        if existing is not None:
            existing.locations.append(location)
            existing.auto_comments.append(comment)
            continue
        entry = entries.get(text, MISSING)
        catalog.add(
            text,
            entry.text,
            locations=[location],
            auto_comments=[comment],
            user_comments=status_comments(entry),
            flags=["fuzzy"] if entry.status is Status.NEEDS_REVIEW else [],
        )
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100)
    return buffer.getvalue()


def _after(
    before: Entry, text: str, fuzzy: bool, note: str | None, by: str, now: datetime
) -> Entry:
    if fuzzy:
        changed = text != before.text
        if before.status is Status.NEEDS_REVIEW and not changed:
            return before
        return Entry(text, Status.NEEDS_REVIEW, by if changed else before.by, now, note)
    if text != before.text:
        return Entry(text, Status.DRAFT, by, now)
    if before.status is Status.NEEDS_REVIEW:
        return Entry(text, Status.REVIEWED, by, now)
    return before


def _kind(before: Entry, after: Entry) -> str:
    if not before.finished:
        return "new"
    if before.text != after.text:
        return "changed"
    return "reviewed" if after.status is Status.REVIEWED else "needs_review"


def preview_po_import(
    session: Session,
    flow: str,
    lang: str,
    data: bytes,
    *,
    by: str,
    now: datetime,
    base: Base | None = None,
) -> PoPreview:
    """What importing ``data`` into the flow's draft would change (nothing is written)."""
    draft = get_draft(session, flow)
    name = file_name(flow, None, lang)
    if lang not in TRANSLATED:
        return PoPreview(flow, lang, draft.revision, [], [f"{name}: no such language: {lang!r}"])
    wanted = set(texts_of(draft.source, base))
    if not wanted:
        unparsed = [f"{name}: the draft of {flow} does not parse; fix it before importing"]
        return PoPreview(flow, lang, draft.revision, [], unparsed)
    try:
        catalog = parse_po(data, name, lang)
    except ImportRefused as exc:
        return PoPreview(flow, lang, draft.revision, [], exc.problems)
    refused: list[str] = []
    said = catalog.locale_identifier
    if said and said != lang:
        refused.append(f"{name}: this file is for {said!r}, not {lang!r}")
    changes: list[PoChange] = []
    entries = draft.translations.get(lang, {})
    for message in catalog:
        if not message.id or not isinstance(message.id, str):
            continue
        where = f"{name}:{message.lineno}"
        if message.id not in wanted:
            refused.append(f"{where}: {message.id!r} is not a text of {flow}")
            continue
        text = message.string.strip() if isinstance(message.string, str) else ""
        if not text:
            continue  # nothing to import; the draft keeps what it has
        problem = placeholder_problem(message.id, text)
        if problem:
            refused.append(f"{where}: {message.id!r}: {problem}")
            continue
        before = entries.get(message.id, MISSING)
        note = next(
            (c.partition(":")[2].strip() for c in message.user_comments if c.startswith("review:")),
            before.note,
        )
        after = _after(before, text, message.fuzzy, note, by, now)
        if after != before:
            changes.append(PoChange(message.id, _kind(before, after), before, after))
    return PoPreview(flow, lang, draft.revision, changes if not refused else [], refused)


def apply_po_import(
    session: Session,
    *,
    flow: str,
    lang: str,
    data: bytes,
    revision: int,
    by: str,
    now: datetime,
    base: Base | None = None,
) -> Draft:
    """Import a PO file into the draft as previewed on ``revision`` (StaleDraft if the draft
    moved on since; ImportRefused with every problem if the file is refused)."""
    preview = preview_po_import(session, flow, lang, data, by=by, now=now, base=base)
    if not preview.ok:
        raise ImportRefused(preview.refused)
    current = get_draft(session, flow)
    if revision != current.revision:
        raise StaleDraft(current, revision)
    translations = {k: dict(v) for k, v in current.translations.items()}
    for change in preview.changes:
        translations.setdefault(lang, {})[change.msgid] = change.after
    draft = next_revision(session, current, translations=translations, by=by, now=now)
    reason = f"{flow} {lang}: {len(preview.changes)} translation(s) into the draft"
    audit.record(session, actor=by, action="import_po", reason=reason, at=now)
    return draft
