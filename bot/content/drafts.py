"""A flow's one draft: saved as typed (even when broken), moved on by one revision per save, a
save naming an older revision refused (``StaleDraft``) with what the person typed kept. A changed
English text keeps its translations, marked as needing review.

Functions work in the caller's session and never commit.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlmodel import Session

from bot.content.assemble import Base, default_base, msgids, parse, screen_texts, source_name
from bot.content.store import (
    MISSING,
    TRANSLATED,
    Draft,
    Entry,
    Status,
    Translations,
    Version,
    draft_of,
    draft_row,
    latest_row,
    version_of,
    write_draft,
)
from bot.engine.loader import FlowLoadError, LoadedFlow


class UnknownFlow(LookupError):
    """No flow (version or draft) of that name, or no version of that number."""


class StaleDraft(Exception):
    """A save or publish named a draft revision that another save has moved on from.

    Keeps what the person sent (``mine_source``, ``mine_texts``) beside the draft as it now is
    (``current``: who saved it, when, and what it holds), so nothing typed is lost.
    """

    def __init__(
        self,
        current: Draft,
        started_from: int,
        mine_source: str | None = None,
        mine_texts: dict[str, dict[str, str]] | None = None,
    ) -> None:
        super().__init__(
            f"draft of {current.flow} is at revision {current.revision}, not {started_from}"
            f" (saved by {current.updated_by or 'someone'} since)"
        )
        self.current = current
        self.started_from = started_from
        self.mine_source = mine_source
        self.mine_texts = mine_texts


def resolve(base: Base | None) -> Base:
    """The base given, or that of the settings' files (read once per process)."""
    return base if base is not None else default_base()


def _try_parse(source: str, name: str, base: Base) -> LoadedFlow | None:
    try:
        return parse(source, name, base.areas)
    except FlowLoadError:
        return None


def texts_of(source: str, base: Base | None = None) -> list[str]:
    """The English texts a flow's YAML asks to translate, in order (none when it does not parse)."""
    loaded = _try_parse(source, "draft", resolve(base))
    return msgids(loaded) if loaded is not None else []


def pruned(translations: Translations, wanted: list[str]) -> Translations:
    """Exactly one entry per wanted text and language (missing where there is none)."""
    return {
        lang: {m: translations.get(lang, {}).get(m, MISSING) for m in wanted} for lang in TRANSLATED
    }


def unchanged(draft: Draft, version: Version, base: Base | None = None) -> bool:
    """Does the draft hold what the version published (nothing to publish)?"""
    base = resolve(base)
    if draft.source != version.source:
        return False
    wanted = texts_of(draft.source, base)
    return pruned(draft.translations, wanted) == pruned(version.translations, wanted)


def get_draft(session: Session, flow: str) -> Draft:
    """The draft of a flow, made from its newest version when it has none (UnknownFlow if
    neither exists)."""
    row = draft_row(session, flow)
    if row is not None:
        return draft_of(row)
    latest = latest_row(session, flow)
    if latest is None:
        raise UnknownFlow(f"no flow named {flow!r}")
    draft = Draft(
        flow, 1, latest.number, latest.source, version_of(latest).translations, None, None
    )
    write_draft(session, draft, expected=None)  # seeding and publishing make drafts: rare here
    return draft


def _edited(
    translations: Translations, texts: dict[str, dict[str, str]], by: str, now: datetime
) -> tuple[Translations, set[tuple[str, str]]]:
    """Translations with the typed texts in (status draft; empty: missing), and which changed."""
    result = {lang: dict(translations.get(lang, {})) for lang in TRANSLATED}
    touched: set[tuple[str, str]] = set()
    for lang, entries in texts.items():
        if lang not in TRANSLATED:
            raise ValueError(f"translations are for {', '.join(TRANSLATED)}, not {lang!r}")
        for msgid, text in entries.items():
            text = text.strip()
            old = result[lang].get(msgid, MISSING)
            if text == old.text:
                continue
            result[lang][msgid] = Entry(text, Status.DRAFT, by, now) if text else MISSING
            touched.add((lang, msgid))
    return result, touched


def _renames(old: LoadedFlow | None, new: LoadedFlow) -> dict[str, str]:
    """New English text -> the text it replaced at the same place (state and position)."""
    if old is None:
        return {}
    before: dict[str, list[str]] = {}
    for state, text in screen_texts(old):
        before.setdefault(state, []).append(text)
    after: dict[str, list[str]] = {}
    for state, text in screen_texts(new):
        after.setdefault(state, []).append(text)
    found: dict[str, str] = {}
    for state, texts in after.items():
        for was, now in zip(before.get(state, []), texts, strict=False):
            if was != now:
                found.setdefault(now, was)
    return found


def carried(
    translations: Translations,
    old: LoadedFlow | None,
    new: LoadedFlow,
    touched: frozenset[tuple[str, str]] | set[tuple[str, str]] = frozenset(),
) -> Translations:
    """Translations for the new English texts: an English text changed in place (same screen,
    same position) keeps its translations, marked as needing review (unless just typed, in
    ``touched``); the others as they were."""
    renames = _renames(old, new)
    result: Translations = {}
    for lang in TRANSLATED:
        entries = translations.get(lang, {})
        kept: dict[str, Entry] = {}
        for msgid in msgids(new):
            if entries.get(msgid, MISSING).finished:
                kept[msgid] = entries[msgid]
            elif msgid in renames and entries.get(renames[msgid], MISSING).finished:
                was = entries[renames[msgid]]
                if (lang, renames[msgid]) in touched:
                    kept[msgid] = was
                else:
                    note = f"the English was: {renames[msgid]}"
                    kept[msgid] = Entry(was.text, Status.NEEDS_REVIEW, note=note)
            else:
                kept[msgid] = entries.get(msgid, MISSING)
        result[lang] = kept
    return result


def next_revision(
    session: Session,
    current: Draft,
    *,
    translations: Translations,
    by: str,
    now: datetime,
    source: str | None = None,
    mine: tuple[str | None, dict[str, dict[str, str]] | None] = (None, None),
) -> Draft:
    """Write ``current``'s next revision (its source unless ``source``), only if nobody saved
    since; StaleDraft otherwise, keeping what the person typed (``mine``: source, texts)."""
    draft = replace(
        current,
        revision=current.revision + 1,
        source=current.source if source is None else source,
        translations=translations,
        updated_by=by,
        updated_at=now,
    )
    if not write_draft(session, draft, expected=current.revision):
        raise StaleDraft(get_draft(session, current.flow), current.revision, *mine)
    return draft


def save_draft(
    session: Session,
    *,
    flow: str,
    revision: int,
    source: str | None = None,
    texts: dict[str, dict[str, str]] | None = None,
    by: str,
    now: datetime,
    base: Base | None = None,
) -> Draft:
    """Save a draft as typed (never refused for its content); StaleDraft when ``revision`` is
    not the draft's current one.

    ``texts``: language -> English text -> translation (empty: none); a changed translation
    becomes ``draft``. A changed English text keeps its translations, marked ``needs_review``.
    """
    base = resolve(base)
    current = get_draft(session, flow)
    if revision != current.revision:
        raise StaleDraft(current, revision, source, texts)
    translations, touched = _edited(current.translations, texts or {}, by, now)
    new_source = current.source if source is None else source
    new = _try_parse(new_source, source_name(flow, None), base)
    if new is not None:
        old = _try_parse(current.source, source_name(flow, None), base)
        translations = carried(translations, old, new, touched)
    return next_revision(
        session,
        current,
        source=new_source,
        translations=translations,
        by=by,
        now=now,
        mine=(source, texts),
    )


def mark_reviewed(
    session: Session, *, flow: str, revision: int, lang: str, msgid: str, by: str, now: datetime
) -> Draft:
    """Mark one translation of the draft as reviewed by a native speaker (who, when)."""
    current = get_draft(session, flow)
    if revision != current.revision:
        raise StaleDraft(current, revision)
    entry = current.translations.get(lang, {}).get(msgid)
    if entry is None or not entry.finished:
        raise ValueError(f"no {lang} translation of {msgid!r} to review")
    translations = {k: dict(v) for k, v in current.translations.items()}
    translations[lang][msgid] = Entry(entry.text, Status.REVIEWED, by, now)
    return next_revision(session, current, translations=translations, by=by, now=now)
