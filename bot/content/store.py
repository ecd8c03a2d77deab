"""Stored flow versions and drafts as values: what a version, a draft and a translation entry are,
and how they are read from and written to their rows (``bot.models.content``).

Services (``bot.content.versions``) work on these values; nothing else reads the JSON of a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from bot.core.clock import utcnow
from bot.core.languages import LANGUAGES
from bot.models.content import ContentSignal, FlowDraft, FlowVersion

TRANSLATED = LANGUAGES[1:]
"""The languages a flow's English texts are translated into (fr, ln, st)."""
FILES = "files"
"""Who published a version seeded from (or imported as) the repository's files."""


class Status(StrEnum):
    """Where a translation stands: the editor and the PO files show it."""

    MISSING = "missing"
    DRAFT = "draft"
    """Typed in the editor or imported, not reviewed by a native speaker yet."""
    NEEDS_REVIEW = "needs_review"
    """Needs native review: a ``# review:`` comment of the files, or its English changed."""
    REVIEWED = "reviewed"


@dataclass(frozen=True)
class Entry:
    """One translation of one English text: its text, status, who and when, a reviewer's note."""

    text: str
    status: Status
    by: str | None = None
    at: datetime | None = None
    note: str | None = None
    """What a translator asked a reviewer to check (the files' ``# review:`` comment)."""

    @property
    def finished(self) -> bool:
        """Has it a text a person may be shown (whatever its review)?"""
        return bool(self.text) and self.status is not Status.MISSING


MISSING = Entry("", Status.MISSING)

Translations = dict[str, dict[str, Entry]]
"""Language ("fr", "ln", "st") -> English msgid -> entry."""


@dataclass(frozen=True)
class Draft:
    """The one draft of a flow, as saved (it may not parse; it is saved anyway)."""

    flow: str
    revision: int
    base_number: int | None
    source: str
    translations: Translations
    updated_by: str | None
    updated_at: datetime | None


@dataclass(frozen=True)
class Version:
    """A published, immutable, numbered version of a flow."""

    flow: str
    number: int
    source: str
    translations: Translations
    digest: str
    published_by: str
    published_at: datetime
    note: str
    restored_from: int | None


def entry_to_json(entry: Entry) -> dict[str, Any]:
    """An entry as its row stores it (only what it has)."""
    data: dict[str, Any] = {"text": entry.text, "status": entry.status.value}
    if entry.by is not None:
        data["by"] = entry.by
    if entry.at is not None:
        data["at"] = entry.at.isoformat()
    if entry.note:
        data["note"] = entry.note
    return data


def entry_from_json(data: dict[str, Any]) -> Entry:
    """An entry from its stored form."""
    at = data.get("at")
    return Entry(
        text=str(data.get("text", "")),
        status=Status(data.get("status", Status.MISSING.value)),
        by=data.get("by"),
        at=datetime.fromisoformat(at) if isinstance(at, str) else None,
        note=data.get("note"),
    )


def translations_to_json(translations: Translations) -> dict[str, Any]:
    """Translations as a row stores them."""
    return {
        lang: {msgid: entry_to_json(e) for msgid, e in entries.items()}
        for lang, entries in translations.items()
    }


def translations_from_json(data: dict[str, Any]) -> Translations:
    """Translations from a row."""
    return {
        lang: {msgid: entry_from_json(e) for msgid, e in entries.items()}
        for lang, entries in data.items()
    }


def version_of(row: FlowVersion) -> Version:
    """The value of a version row."""
    return Version(
        flow=row.flow,
        number=row.number,
        source=row.source,
        translations=translations_from_json(row.translations),
        digest=row.digest,
        published_by=row.published_by,
        published_at=row.published_at,
        note=row.note,
        restored_from=row.restored_from,
    )


def draft_of(row: FlowDraft) -> Draft:
    """The value of a draft row."""
    return Draft(
        flow=row.flow,
        revision=row.revision,
        base_number=row.base_number,
        source=row.source,
        translations=translations_from_json(row.translations),
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def latest_row(session: Session, flow: str) -> FlowVersion | None:
    """The newest published version of a flow (the one processes run), None if never published."""
    return session.exec(
        select(FlowVersion)
        .where(col(FlowVersion.flow) == flow)
        .order_by(col(FlowVersion.number).desc())
    ).first()


def version_row(session: Session, flow: str, number: int) -> FlowVersion | None:
    """A version of a flow by its number."""
    return session.exec(
        select(FlowVersion).where(col(FlowVersion.flow) == flow, col(FlowVersion.number) == number)
    ).first()


def version_by_digest(session: Session, flow: str, digest: str) -> Version | None:
    """The version a running session started on (by its digest), None when none has it."""
    row = session.exec(
        select(FlowVersion)
        .where(col(FlowVersion.flow) == flow, col(FlowVersion.digest) == digest)
        .order_by(col(FlowVersion.number).desc())
    ).first()
    return version_of(row) if row is not None else None


def published(session: Session) -> list[Version]:
    """The newest version of every flow (the published set), by flow name."""
    newest = (
        select(FlowVersion.flow, func.max(FlowVersion.number).label("number"))
        .group_by(col(FlowVersion.flow))
        .subquery()
    )
    rows = session.exec(
        select(FlowVersion)
        .join(
            newest,
            (col(FlowVersion.flow) == newest.c.flow) & (col(FlowVersion.number) == newest.c.number),
        )
        .order_by(col(FlowVersion.flow))
    ).all()
    return [version_of(row) for row in rows]


def add_version(
    session: Session,
    version: Version,
) -> FlowVersion:
    """Add a published version to the caller's transaction (a second with the same number fails
    on commit: unique per flow)."""
    row = FlowVersion(
        flow=version.flow,
        number=version.number,
        source=version.source,
        translations=translations_to_json(version.translations),
        digest=version.digest,
        published_by=version.published_by,
        published_at=version.published_at,
        note=version.note,
        restored_from=version.restored_from,
    )
    session.add(row)
    return row


def draft_row(session: Session, flow: str) -> FlowDraft | None:
    """The draft row of a flow, if it has one."""
    return session.get(FlowDraft, flow)


def write_draft(session: Session, draft: Draft, *, expected: int | None) -> bool:
    """Store ``draft`` (its revision already moved on) if the stored one is still at
    ``expected`` (None: there is none yet); False when another save came first.

    One conditional UPDATE, so two editors saving at once cannot both win.
    """
    values: dict[str, Any] = {
        "revision": draft.revision,
        "base_number": draft.base_number,
        "source": draft.source,
        "translations": translations_to_json(draft.translations),
        "updated_by": draft.updated_by,
        "updated_at": draft.updated_at,
    }
    if expected is None:
        session.add(FlowDraft(flow=draft.flow, **values))
        session.flush()
        return True
    result = session.execute(
        update(FlowDraft)
        .where(col(FlowDraft.flow) == draft.flow, col(FlowDraft.revision) == expected)
        .values(**values)
    )
    session.expire_all()
    return bool(getattr(result, "rowcount", 0) == 1)


def lock_signal(session: Session) -> None:
    """Hold the signal row until the caller's transaction ends, so that publishes (which
    number versions and move the generation on) run one at a time: an UPDATE that changes
    nothing takes the row lock on PostgreSQL and the write lock on SQLite, before anything is
    read."""
    session.execute(
        update(ContentSignal)
        .where(col(ContentSignal.id) == 1)
        .values(generation=ContentSignal.generation)
    )


def bump_signal(session: Session, now: datetime | None = None) -> int:
    """Move the content generation on by one in the caller's transaction; the new generation."""
    row = session.get(ContentSignal, 1, with_for_update=True)
    if row is None:
        row = ContentSignal(id=1, generation=0)
    row.generation += 1
    row.updated_at = now or utcnow()
    session.add(row)
    session.flush()
    return row.generation


def generation(session: Session) -> int:
    """The content generation (0 before any publish)."""
    row = session.get(ContentSignal, 1)
    return row.generation if row is not None else 0
