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

from bot.content.assemble import Base, digest_of, msgids, parse, source_name, yaml_field
from bot.content.checks import NotPublishable, check_text, draft_content, draft_issues, others
from bot.content.drafts import (
    StaleDraft,
    UnknownFlow,
    get_draft,
    mark_reviewed,
    pruned,
    resolve,
    save_draft,
    texts_of,
    unchanged,
)
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
    latest_row,
    lock_signal,
    published,
    version_of,
    version_row,
    write_draft,
)
from bot.engine.loader import FlowIssue, FlowLoadError
from bot.governance import audit
from bot.models.content import FlowDraft, FlowVersion

__all__ = [
    "Draft",
    "Entry",
    "FlowSummary",
    "NotPublishable",
    "StaleDraft",
    "Status",
    "Translations",
    "UnknownFlow",
    "Version",
    "draft_content",
    "draft_issues",
    "get_draft",
    "get_version",
    "history",
    "list_flows",
    "mark_reviewed",
    "publish",
    "rollback",
    "save_draft",
    "texts_of",
    "unchanged",
]
"""The contract of issue 14 (/tmp/notes/content-api.md): values, errors and services."""

NOTE_MAX = 500


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
    kept = pruned(translations, msgids(loaded))
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
    base = resolve(base)
    lock_signal(session)  # publishes one at a time (PostgreSQL): the next number is ours
    draft = get_draft(session, flow)
    if revision != draft.revision:
        raise StaleDraft(draft, revision)
    latest = latest_row(session, flow)
    if latest is not None and unchanged(draft, version_of(latest), base):
        name = source_name(flow, None)
        raise NotPublishable([FlowIssue(name, f"nothing changed since version {latest.number}")])
    issues = check_text(flow, None, draft.source, draft.translations, others(session, flow), base)
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
    base = resolve(base)
    lock_signal(session)
    old = get_version(session, flow, number)
    draft = get_draft(session, flow)
    latest = latest_row(session, flow)
    assert latest is not None  # get_version found one
    issues = check_text(flow, None, old.source, old.translations, others(session, flow), base)
    if issues:
        raise NotPublishable(issues)
    untouched = unchanged(draft, version_of(latest), base)
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


def _title(source: str, base: Base) -> str:
    try:
        return parse(source, "draft", base.areas).definition.title  # shared with texts_of
    except FlowLoadError:  # a broken draft: its title as far as the YAML reads
        title = yaml_field(source, "title")
        return title if isinstance(title, str) else ""


def list_flows(session: Session, base: Base | None = None) -> list[FlowSummary]:
    """Every flow with its published version, its draft and how complete each language is.

    Issues are counted for drafts with changes (a published version passed the checks)."""
    base = resolve(base)
    newest = {v.flow: v for v in published(session)}
    drafts = {r.flow: draft_of(r) for r in session.exec(select(FlowDraft)).all()}
    summaries = []
    for flow in sorted(set(newest) | set(drafts)):
        version = newest.get(flow)
        draft = drafts.get(flow) or get_draft(session, flow)
        changed = version is None or not unchanged(draft, version, base)
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
                title=_title(draft.source, base)
                or (_title(version.source, base) if version else ""),
                published=version.number if version else None,
                published_at=version.published_at if version else None,
                draft_revision=draft.revision,
                draft_changed=changed,
                issues=issues,
                completeness=completeness,
            )
        )
    return summaries
