"""Stored versions and drafts as values: entries keep status, who, when and note; saves race."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session

from bot.content import versions
from bot.content.store import (
    MISSING,
    Entry,
    Status,
    bump_signal,
    entry_from_json,
    entry_to_json,
    generation,
    version_by_digest,
    write_draft,
)
from tests.content.conftest import NOW


def test_an_entry_keeps_its_status_who_when_and_note() -> None:
    entry = Entry("Tlaleha", Status.REVIEWED, "nkulu", NOW, "checked in Maseru")
    assert entry_from_json(entry_to_json(entry)) == entry
    assert entry_to_json(MISSING) == {"text": "", "status": "missing"}
    assert not MISSING.finished and not Entry("", Status.DRAFT).finished


def test_a_draft_is_written_only_over_the_revision_it_started_from(db: Session) -> None:
    draft = versions.get_draft(db, "main")
    first = replace(draft, revision=2, updated_by="alice")
    second = replace(draft, revision=2, updated_by="bob")
    assert write_draft(db, first, expected=1)
    assert not write_draft(db, second, expected=1)  # alice's save came first
    assert versions.get_draft(db, "main").updated_by == "alice"


def test_a_running_session_finds_its_version_by_digest(db: Session) -> None:
    first = versions.get_version(db, "main", 1)
    assert version_by_digest(db, "main", first.digest) == first
    assert version_by_digest(db, "main", "000000000000") is None


def test_the_signal_moves_on_by_one(db: Session) -> None:
    assert generation(db) == 1
    assert bump_signal(db, NOW) == 2
    assert generation(db) == 2
