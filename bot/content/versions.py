"""Flows edited as drafts and published as numbered versions (DESIGN §12): the one set of
functions the team web, the JSON API and the CLI call.

They work in the caller's session and never commit. A draft is saved as typed, broken or not;
publishing runs the checks of ``hotline flows check`` and refuses an invalid draft with every
issue at its state and language; a save naming an older revision is refused (``StaleDraft``) and
keeps what the person typed. After committing a publish or rollback the caller announces it
(``bot.content.signal``); processes without Redis see ``content_signal`` move on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session, col, select

from bot.content.assemble import (
    Base,
    default_base,
    digest_of,
    loaded_version,
    msgids,
    parse,
    screen_texts,
    source_name,
    yaml_field,
)
from bot.content.files import Content, check_loaded
from bot.content.store import (
    MISSING,
    TRANSLATED,
    Draft,
    Entry,
    Status,
    Translations,
    Version,
    add_version,
    bump_signal,
    draft_of,
    draft_row,
    latest_row,
    published,
    version_of,
    version_row,
    write_draft,
)
from bot.engine.compile import compile_flow
from bot.engine.formats import answer_formats
from bot.engine.loader import FlowIssue, FlowLoadError, LoadedFlow
from bot.engine.registry import FlowRegistry
from bot.governance import audit
from bot.models.content import FlowDraft, FlowVersion

NOTE_MAX = 500


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


class NotPublishable(Exception):
    """A draft that may not be published: every issue, at its state and language."""

    def __init__(self, issues: list[FlowIssue]) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues


@dataclass(frozen=True)
class FlowSummary:
    """One line of the list of flows."""

    flow: str
    title: str
    published: int | None
    published_at: datetime | None
    draft_revision: int
    draft_changed: bool
    issues: int
    completeness: dict[str, tuple[int, int]]
    """Language -> (texts with a translation, texts)."""


def _base(base: Base | None) -> Base:
    return base if base is not None else default_base()


def _try_parse(source: str, name: str, base: Base) -> LoadedFlow | None:
    try:
        return parse(source, name, base.areas)
    except FlowLoadError:
        return None


def texts_of(source: str, base: Base | None = None) -> list[str]:
    """The English texts a flow's YAML asks to translate, in order (none when it does not parse)."""
    loaded = _try_parse(source, "draft", _base(base))
    return msgids(loaded) if loaded is not None else []


def _pruned(translations: Translations, wanted: list[str]) -> Translations:
    """Exactly one entry per wanted text and language (missing where there is none)."""
    return {
        lang: {m: translations.get(lang, {}).get(m, MISSING) for m in wanted} for lang in TRANSLATED
    }


def _same(draft: Draft, version: Version, base: Base) -> bool:
    """Does the draft hold what the version published (nothing to publish)?"""
    if draft.source != version.source:
        return False
    wanted = texts_of(draft.source, base)
    return _pruned(draft.translations, wanted) == _pruned(version.translations, wanted)


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


def _carried(
    translations: Translations,
    old: LoadedFlow | None,
    new: LoadedFlow,
    touched: set[tuple[str, str]],
) -> Translations:
    """Translations for the new English texts: an English text changed in place keeps its
    translations, marked as needing review (unless just typed); others as they were."""
    renames = _renames(old, new)
    result: Translations = {}
    for lang in TRANSLATED:
        entries = translations.get(lang, {})
        kept: dict[str, Entry] = {}
        for msgid in msgids(new):
            if msgid in entries:
                kept[msgid] = entries[msgid]
            elif msgid in renames and entries.get(renames[msgid], MISSING).finished:
                was = entries[renames[msgid]]
                if (lang, renames[msgid]) in touched:
                    kept[msgid] = was
                else:
                    note = f"the English was: {renames[msgid]}"
                    kept[msgid] = Entry(was.text, Status.NEEDS_REVIEW, note=note)
            else:
                kept[msgid] = MISSING
        result[lang] = kept
    return result


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
    base = _base(base)
    current = get_draft(session, flow)
    if revision != current.revision:
        raise StaleDraft(current, revision, source, texts)
    translations, touched = _edited(current.translations, texts or {}, by, now)
    new_source = current.source if source is None else source
    new = _try_parse(new_source, source_name(flow, None), base)
    if new is not None:
        old = _try_parse(current.source, source_name(flow, None), base)
        translations = _carried(translations, old, new, touched)
    draft = replace(
        current,
        revision=current.revision + 1,
        source=new_source,
        translations=translations,
        updated_by=by,
        updated_at=now,
    )
    if not write_draft(session, draft, expected=current.revision):
        raise StaleDraft(get_draft(session, flow), revision, source, texts)
    return draft


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
    draft = replace(
        current,
        revision=current.revision + 1,
        translations=translations,
        updated_by=by,
        updated_at=now,
    )
    if not write_draft(session, draft, expected=current.revision):
        raise StaleDraft(get_draft(session, flow), revision)
    return draft


def _others(session: Session, flow: str) -> list[Version]:
    return [v for v in published(session) if v.flow != flow]


def _check(
    flow: str,
    number: int | None,
    source: str,
    translations: Translations,
    others: list[Version],
    base: Base,
) -> list[FlowIssue]:
    """Every issue of one flow text checked with the other flows' published versions."""
    name = source_name(flow, number)
    try:
        mine = parse(source, name, base.areas)
    except FlowLoadError as exc:
        return exc.issues
    if mine.name != flow:
        return [FlowIssue(name, f"the flow is named {mine.name!r} here, not {flow!r}")]
    loaded = [mine]
    issues: list[FlowIssue] = []
    for other in others:
        try:
            loaded.append(loaded_version(other, base.areas))
        except FlowLoadError as exc:
            issues.extend(exc.issues)
    catalogs = base.catalogs([*(o.translations for o in others), translations])
    issues.extend(check_loaded(loaded, catalogs, base.areas, texts_of={flow}))
    seen = {(i.state, i.lang, i.reason) for i in issues}
    for state, text in screen_texts(mine):  # its own translations, whatever other flows have
        for lang in TRANSLATED:
            if not translations.get(lang, {}).get(text, MISSING).finished:
                reason = f"missing translation of {text!r}"
                if (state, lang, reason) not in seen:
                    seen.add((state, lang, reason))
                    issues.append(FlowIssue(name, reason, state, lang, mine.lines.get(state)))
    return issues


def draft_issues(session: Session, flow: str, base: Base | None = None) -> list[FlowIssue]:
    """Why the draft may not be published (empty: it may): the checks of ``hotline flows
    check`` run with the other flows' published versions, each issue at its state and language."""
    draft = get_draft(session, flow)
    return _check(flow, None, draft.source, draft.translations, _others(session, flow), _base(base))


def draft_content(session: Session, flow: str, base: Base | None = None) -> Content:
    """The published set with this flow's draft in its place, for the preview. Raises
    FlowLoadError when it cannot run (does not parse, a broken structure or placeholder); a
    missing translation shows English, an overflowing screen shows as it is."""
    base = _base(base)
    draft = get_draft(session, flow)
    others = _others(session, flow)
    issues = [
        i
        for i in _check(flow, None, draft.source, draft.translations, others, base)
        if i.lang is None
    ]
    if issues:
        raise FlowLoadError(issues)
    mine = parse(draft.source, source_name(flow, None), base.areas)
    mine = replace(mine, version=digest_of(mine, draft.translations))
    loaded = [mine, *(loaded_version(o, base.areas) for o in others)]
    catalogs = base.catalogs([*(o.translations for o in others), draft.translations])
    registry = FlowRegistry((compile_flow(f) for f in loaded), answer_formats(base.areas))
    return Content(registry, catalogs, base.areas)


def _publish(
    session: Session,
    *,
    flow: str,
    source: str,
    translations: Translations,
    note: str,
    by: str,
    now: datetime,
    restored_from: int | None,
    base: Base,
) -> Version:
    latest = latest_row(session, flow)
    number = latest.number + 1 if latest is not None else 1
    loaded = parse(source, source_name(flow, number), base.areas)
    kept = _pruned(translations, msgids(loaded))
    version = Version(
        flow=flow,
        number=number,
        source=source,
        translations=kept,
        digest=digest_of(loaded, kept),
        published_by=by,
        published_at=now,
        note=note.strip()[:NOTE_MAX],
        restored_from=restored_from,
    )
    add_version(session, version)
    bump_signal(session, now)
    session.flush()
    return version


def publish(
    session: Session,
    *,
    flow: str,
    revision: int,
    note: str,
    by: str,
    now: datetime,
    base: Base | None = None,
) -> Version:
    """Publish the draft as the next version (who, when, note; audited). NotPublishable with
    every issue when it does not pass the checks, or when nothing changed; StaleDraft when
    ``revision`` is not the draft's current one."""
    base = _base(base)
    draft = get_draft(session, flow)
    if revision != draft.revision:
        raise StaleDraft(draft, revision)
    latest = latest_row(session, flow)
    if latest is not None and _same(draft, version_of(latest), base):
        name = source_name(flow, None)
        raise NotPublishable([FlowIssue(name, f"nothing changed since version {latest.number}")])
    issues = _check(flow, None, draft.source, draft.translations, _others(session, flow), base)
    if issues:
        raise NotPublishable(issues)
    version = _publish(
        session,
        flow=flow,
        source=draft.source,
        translations=draft.translations,
        note=note,
        by=by,
        now=now,
        restored_from=None,
        base=base,
    )
    rebased = replace(draft, base_number=version.number, translations=version.translations)
    if not write_draft(session, rebased, expected=draft.revision):
        raise StaleDraft(get_draft(session, flow), revision)
    audit.record(session, actor=by, action="publish_flow", reason=_reason(version), at=now)
    return version


def rollback(
    session: Session,
    *,
    flow: str,
    number: int,
    note: str,
    by: str,
    now: datetime,
    base: Base | None = None,
) -> Version:
    """Publish version ``number`` again as the next number (restored_from; audited), after the
    same checks as a publish. A draft without changes of its own follows it."""
    base = _base(base)
    old = get_version(session, flow, number)
    draft = get_draft(session, flow)
    latest = latest_row(session, flow)
    assert latest is not None  # get_version found one
    issues = _check(flow, None, old.source, old.translations, _others(session, flow), base)
    if issues:
        raise NotPublishable(issues)
    untouched = _same(draft, version_of(latest), base)
    version = _publish(
        session,
        flow=flow,
        source=old.source,
        translations=old.translations,
        note=note,
        by=by,
        now=now,
        restored_from=number,
        base=base,
    )
    if untouched:
        follows = replace(
            draft,
            revision=draft.revision + 1,
            base_number=version.number,
            source=version.source,
            translations=version.translations,
            updated_by=by,
            updated_at=now,
        )
        if not write_draft(session, follows, expected=draft.revision):
            raise StaleDraft(get_draft(session, flow), draft.revision)
    audit.record(session, actor=by, action="rollback_flow", reason=_reason(version), at=now)
    return version


def _reason(version: Version) -> str:
    restored = f" (restores {version.restored_from})" if version.restored_from else ""
    return f"{version.flow} version {version.number}{restored}: {version.note}"


def history(session: Session, flow: str) -> list[Version]:
    """Every published version of a flow, newest first."""
    rows = session.exec(
        select(FlowVersion)
        .where(col(FlowVersion.flow) == flow)
        .order_by(col(FlowVersion.number).desc())
    ).all()
    return [version_of(row) for row in rows]


def get_version(session: Session, flow: str, number: int) -> Version:
    """A published version (UnknownFlow if there is no such number)."""
    row = version_row(session, flow, number)
    if row is None:
        raise UnknownFlow(f"{flow} has no version {number}")
    return version_of(row)


def _title(source: str) -> str:
    title = yaml_field(source, "title")
    return title if isinstance(title, str) else ""


def list_flows(session: Session, base: Base | None = None) -> list[FlowSummary]:
    """Every flow with its published version, its draft and how complete each language is.

    Issues are counted for drafts with changes (a published version passed the checks)."""
    base = _base(base)
    newest = {v.flow: v for v in published(session)}
    drafts = {r.flow: draft_of(r) for r in session.exec(select(FlowDraft)).all()}
    summaries = []
    for flow in sorted(set(newest) | set(drafts)):
        version = newest.get(flow)
        draft = drafts.get(flow) or get_draft(session, flow)
        changed = version is None or not _same(draft, version, base)
        wanted = texts_of(draft.source, base)
        completeness = {
            lang: (
                sum(1 for m in wanted if draft.translations.get(lang, {}).get(m, MISSING).finished),
                len(wanted),
            )
            for lang in TRANSLATED
        }
        issues = len(draft_issues(session, flow, base)) if changed else 0
        summaries.append(
            FlowSummary(
                flow=flow,
                title=_title(draft.source) or (_title(version.source) if version else ""),
                published=version.number if version else None,
                published_at=version.published_at if version else None,
                draft_revision=draft.revision,
                draft_changed=changed,
                issues=issues,
                completeness=completeness,
            )
        )
    return summaries
