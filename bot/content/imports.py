"""Files taken in as drafts (``hotline flows import DIR``): then checked and published like any.

A draft with edits nobody published is not replaced unless asked (``replace=True``): never a
silent overwrite. A translation whose text is the draft's already keeps its status (who reviewed
it, when); the others take the status the files give (``bot.content.folder``).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.content.assemble import Base, parse, source_name
from bot.content.drafts import StaleDraft, carried, get_draft, resolve, unchanged
from bot.content.folder import FileFlow, ImportRefused
from bot.content.store import (
    Draft,
    Entry,
    Translations,
    draft_of,
    draft_row,
    latest_row,
    version_of,
    write_draft,
)
from bot.engine.loader import FlowLoadError
from bot.governance import audit


def _kept(current: Draft | None, incoming: Translations) -> Translations:
    """The files' translations, keeping the draft's entry wherever the text is the same."""
    if current is None:
        return incoming
    result: Translations = {}
    for lang, entries in incoming.items():
        mine = current.translations.get(lang, {})
        kept: dict[str, Entry] = {}
        for msgid, entry in entries.items():
            before = mine.get(msgid)
            kept[msgid] = before if before is not None and before.text == entry.text else entry
        result[lang] = kept
    return result


def _translations(current: Draft | None, flow: FileFlow, base: Base | None) -> Translations:
    """The translations a file's flow gets: the files', the draft's where the text is the
    same, and, for an English text changed in place, the old translation to review."""
    kept = _kept(current, flow.translations)
    if current is None:
        return kept
    areas = resolve(base).areas
    try:
        old = parse(current.source, source_name(flow.flow, None), areas)
        new = parse(flow.source, source_name(flow.flow, None), areas)
    except FlowLoadError:
        return kept
    merged = {lang: {**current.translations.get(lang, {}), **kept.get(lang, {})} for lang in kept}
    return carried(merged, old, new)


def _current(session: Session, flow: str) -> Draft | None:
    row = draft_row(session, flow)
    if row is not None:
        return draft_of(row)
    return get_draft(session, flow) if latest_row(session, flow) is not None else None


def _unpublished(session: Session, draft: Draft, base: Base | None) -> bool:
    latest = latest_row(session, draft.flow)
    return latest is None or not unchanged(draft, version_of(latest), base)


def import_drafts(
    session: Session,
    flows: list[FileFlow],
    *,
    by: str,
    now: datetime,
    replace: bool = False,
    base: Base | None = None,
) -> list[Draft]:
    """Make each flow read from files its flow's draft (a new flow gets its first draft);
    ImportRefused, nothing written, when a draft with unpublished edits would be replaced."""
    currents = {f.flow: _current(session, f.flow) for f in flows}
    problems = []
    for flow in flows:
        current = currents[flow.flow]
        if replace or current is None or not _unpublished(session, current, base):
            continue
        if current.source == flow.source and _kept(current, flow.translations) == {
            k: v for k, v in current.translations.items() if k in flow.translations
        }:
            continue  # the files say what the draft says
        problems.append(
            f"{flow.path}: the draft of {flow.flow} has edits not published (revision "
            f"{current.revision} by {current.updated_by or 'someone'}); publish or replace them "
            "(--replace-drafts)"
        )
    if problems:
        raise ImportRefused(problems)
    drafts = []
    for flow in flows:
        current = currents[flow.flow]
        latest = latest_row(session, flow.flow)
        draft = Draft(
            flow=flow.flow,
            revision=current.revision + 1 if current else 1,
            base_number=current.base_number if current else (latest.number if latest else None),
            source=flow.source,
            translations=_translations(current, flow, base),
            updated_by=by,
            updated_at=now,
        )
        if not write_draft(session, draft, expected=current.revision if current else None):
            raise StaleDraft(get_draft(session, flow.flow), draft.revision - 1)
        reason = f"{flow.flow} from {flow.path}: draft revision {draft.revision}"
        audit.record(session, actor=by, action="import_flow", reason=reason, at=now)
        drafts.append(draft)
    return drafts
