"""Flows edited as drafts and published as versions: stale edits, broken drafts, rollback."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.content import versions
from bot.content.store import Draft, Entry, Status, generation
from bot.content.versions import NotPublishable, StaleDraft, UnknownFlow
from bot.engine.loader import FlowLoadError
from bot.models import AuditEntry
from tests.content.conftest import NOW

OLD = '"Choose your language:"'
NEW = '"Pick your language:"'


def edited(db: Session, old: str = OLD, new: str = NEW, flow: str = "main") -> str:
    """The draft's YAML with one piece of text replaced."""
    source = versions.get_draft(db, flow).source
    assert old in source
    return source.replace(old, new, 1)


def save(db: Session, source: str | None = None, **kwargs: object) -> Draft:
    """Save main's draft from its current revision as alice."""
    current = versions.get_draft(db, "main")
    options: dict[str, object] = {"by": "alice", "now": NOW, **kwargs}
    return versions.save_draft(
        db,
        flow="main",
        revision=current.revision,
        source=source,
        **options,  # type: ignore[arg-type]
    )


def test_a_draft_starts_as_the_published_version(db: Session) -> None:
    draft = versions.get_draft(db, "main")
    version = versions.get_version(db, "main", 1)
    assert (draft.revision, draft.base_number) == (1, 1)
    assert draft.source == version.source
    assert draft.translations == version.translations
    assert versions.texts_of(draft.source)[:2] == [
        "Choose your language:",
        "{hotline_name}. You need not give your name.",
    ]


def test_a_changed_english_text_keeps_its_translations_marked_for_review(db: Session) -> None:
    before = versions.get_draft(db, "main").translations["fr"]["Choose your language:"]
    draft = save(db, edited(db))
    assert draft.revision == 2
    for lang in ("fr", "ln", "st"):
        assert "Choose your language:" not in draft.translations[lang]
        entry = draft.translations[lang]["Pick your language:"]
        assert entry.status is Status.NEEDS_REVIEW
        assert entry.note == "the English was: Choose your language:"
    assert draft.translations["fr"]["Pick your language:"].text == before.text
    assert draft.translations["fr"]["Report something"].status is Status.REVIEWED


def test_a_typed_translation_is_a_draft_and_an_empty_one_is_missing(db: Session) -> None:
    draft = save(db, texts={"fr": {"Report something": "Signaler", "Get help now": " "}})
    assert draft.translations["fr"]["Report something"] == Entry(
        "Signaler", Status.DRAFT, "alice", NOW
    )
    assert draft.translations["fr"]["Get help now"].status is Status.MISSING
    with pytest.raises(ValueError, match="not 'en'"):
        save(db, texts={"en": {"Report something": "Report"}})


def test_english_and_its_translation_changed_together_is_a_draft(db: Session) -> None:
    draft = save(db, edited(db), texts={"fr": {"Choose your language:": "Votre langue :"}})
    assert draft.translations["fr"]["Pick your language:"] == Entry(
        "Votre langue :", Status.DRAFT, "alice", NOW
    )
    assert draft.translations["ln"]["Pick your language:"].status is Status.NEEDS_REVIEW


def test_the_second_of_two_editors_is_refused_and_keeps_their_text(db: Session) -> None:
    alice = versions.get_draft(db, "main")
    bob = versions.get_draft(db, "main")
    mine = edited(db, new='"Language?"')
    versions.save_draft(
        db, flow="main", revision=alice.revision, source=edited(db), by="alice", now=NOW
    )
    later = NOW + timedelta(minutes=1)
    with pytest.raises(StaleDraft) as caught:
        versions.save_draft(
            db,
            flow="main",
            revision=bob.revision,
            source=mine,
            texts={"fr": {"Report something": "Dire"}},
            by="bob",
            now=later,
        )
    stale = caught.value
    assert stale.mine_source == mine
    assert stale.mine_texts == {"fr": {"Report something": "Dire"}}
    assert (stale.current.revision, stale.current.updated_by) == (2, "alice")
    assert NEW in stale.current.source
    assert "alice" in str(stale)
    kept = versions.get_draft(db, "main")
    assert NEW in kept.source and kept.updated_by == "alice"  # never overwritten silently
    with pytest.raises(StaleDraft):
        versions.publish(db, flow="main", revision=bob.revision, note="", by="bob", now=later)


BROKEN = {
    "not YAML": (OLD, '"Choose your language:\n  - [', None, "not valid YAML"),
    "unknown state": ("next: language", "next: nowhere", "menu", "nowhere"),
    "unreachable state": (
        "\n  menu:\n",
        "\n  island:\n    type: end\n    text: Report something\n  menu:\n",
        "island",
        "unreachable",
    ),
}
LONG_ST = "Tlaleha ntho e itseng e etsahetseng sebakeng sa heno kapa ho motho eo o mo tsebang, " * 2


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_a_broken_draft_is_saved_with_its_issues_and_cannot_be_published(
    db: Session, case: str
) -> None:
    old, new, state, reason = BROKEN[case]
    source = edited(db, old, new)
    draft = save(db, source)
    assert versions.get_draft(db, "main").source == source  # nothing typed is lost
    issues = versions.draft_issues(db, "main")
    assert issues, case
    assert any(reason in i.reason and i.state == state for i in issues), issues
    assert all(i.source in ("main@draft", "main@1") or "@" in i.source for i in issues)
    with pytest.raises(NotPublishable) as caught:
        versions.publish(db, flow="main", revision=draft.revision, note="", by="alice", now=NOW)
    assert caught.value.issues == issues
    assert [v.number for v in versions.history(db, "main")] == [1]


def test_a_translation_too_long_for_a_ussd_screen_cannot_be_published(db: Session) -> None:
    draft = save(db, texts={"st": {"Report something": LONG_ST}})
    issues = versions.draft_issues(db, "main")
    assert [(i.state, i.lang) for i in issues] == [("menu", "st")]
    assert "USSD screen page 2 is" in issues[0].reason
    with pytest.raises(NotPublishable):
        versions.publish(db, flow="main", revision=draft.revision, note="", by="alice", now=NOW)


def test_a_missing_translation_is_named_at_its_state_and_language(db: Session) -> None:
    save(db, texts={"st": {"Report something": ""}})
    issues = versions.draft_issues(db, "main")
    assert [(i.state, i.lang) for i in issues] == [("menu", "st")]
    assert "missing translation of 'Report something'" in issues[0].reason
    assert issues[0].source == "main@draft" and issues[0].line


def test_publish_makes_an_immutable_numbered_version(db: Session) -> None:
    draft = save(db, edited(db))
    version = versions.publish(
        db, flow="main", revision=draft.revision, note="  shorter  ", by="alice", now=NOW
    )
    db.commit()
    assert (version.number, version.published_by, version.published_at) == (2, "alice", NOW)
    assert version.note == "shorter" and version.restored_from is None
    assert version.digest != versions.get_version(db, "main", 1).digest
    assert [v.number for v in versions.history(db, "main")] == [2, 1]
    assert versions.get_version(db, "main", 2) == version
    assert versions.get_version(db, "main", 1).source.count(OLD) == 1  # v1 as it was
    assert generation(db) == 2
    after = versions.get_draft(db, "main")
    assert (after.revision, after.base_number) == (draft.revision, 2)
    audits = db.exec(select(AuditEntry).where(col(AuditEntry.action) == "publish_flow")).all()
    assert [(a.actor, a.reason) for a in audits] == [("alice", "main version 2: shorter")]
    with pytest.raises(NotPublishable, match="nothing changed since version 2"):
        versions.publish(db, flow="main", revision=after.revision, note="", by="alice", now=NOW)


def test_a_translation_alone_makes_a_version_with_its_own_digest(db: Session) -> None:
    draft = save(db, texts={"fr": {"Report something": "Signaler quelque chose"}})
    version = versions.publish(db, flow="main", revision=draft.revision, note="", by="a", now=NOW)
    first = versions.get_version(db, "main", 1)
    assert version.source == first.source
    assert version.digest != first.digest
    assert version.translations["fr"]["Report something"].text == "Signaler quelque chose"


def test_rollback_publishes_an_old_version_again_as_a_new_number(db: Session) -> None:
    draft = save(db, edited(db))
    versions.publish(db, flow="main", revision=draft.revision, note="new", by="alice", now=NOW)
    restored = versions.rollback(db, flow="main", number=1, note="back", by="bob", now=NOW)
    first = versions.get_version(db, "main", 1)
    assert (restored.number, restored.restored_from, restored.published_by) == (3, 1, "bob")
    assert (restored.source, restored.digest) == (first.source, first.digest)
    assert [v.number for v in versions.history(db, "main")] == [3, 2, 1]
    follows = versions.get_draft(db, "main")
    assert (follows.source, follows.base_number) == (first.source, 3)
    assert generation(db) == 3
    reasons = db.exec(select(AuditEntry.reason).where(col(AuditEntry.action) == "rollback_flow"))
    assert list(reasons) == ["main version 3 (restores 1): back"]
    with pytest.raises(UnknownFlow):
        versions.rollback(db, flow="main", number=9, note="", by="bob", now=NOW)


def test_rollback_leaves_a_draft_with_changes_of_its_own(db: Session) -> None:
    draft = save(db, edited(db))
    versions.publish(db, flow="main", revision=draft.revision, note="", by="alice", now=NOW)
    mine = save(db, edited(db, NEW, '"Your language?"'))
    versions.rollback(db, flow="main", number=1, note="", by="bob", now=NOW)
    assert versions.get_draft(db, "main") == mine


def test_a_reviewer_marks_a_translation_reviewed(db: Session) -> None:
    draft = versions.get_draft(db, "main")
    assert draft.translations["ln"]["Report something"].status is Status.NEEDS_REVIEW
    reviewed = versions.mark_reviewed(
        db,
        flow="main",
        revision=draft.revision,
        lang="ln",
        msgid="Report something",
        by="nkulu",
        now=NOW,
    )
    entry = reviewed.translations["ln"]["Report something"]
    assert (entry.status, entry.by, entry.at) == (Status.REVIEWED, "nkulu", NOW)
    with pytest.raises(StaleDraft):
        versions.mark_reviewed(
            db, flow="main", revision=draft.revision, lang="ln", msgid="X", by="n", now=NOW
        )
    with pytest.raises(ValueError, match="no ln translation"):
        versions.mark_reviewed(
            db, flow="main", revision=reviewed.revision, lang="ln", msgid="X", by="n", now=NOW
        )


def test_the_list_of_flows_shows_versions_drafts_and_completeness(db: Session) -> None:
    save(db, texts={"st": {"Report something": ""}})
    summaries = {s.flow: s for s in versions.list_flows(db)}
    assert sorted(summaries) == [
        "ambassador",
        "follow",
        "help",
        "main",
        "screening",
        "signs",
        "tip",
    ]
    main = summaries["main"]
    assert (main.published, main.draft_revision, main.draft_changed) == (1, 2, True)
    assert main.title == "Language choice and main menu"
    assert main.issues == 1
    total = len(versions.texts_of(versions.get_draft(db, "main").source))
    assert main.completeness == {
        "fr": (total, total),
        "ln": (total, total),
        "st": (total - 1, total),
    }
    tip = summaries["tip"]
    assert (tip.published, tip.draft_changed, tip.issues) == (1, False, 0)


def test_the_preview_runs_the_draft_among_the_published_flows(db: Session) -> None:
    save(db, edited(db))
    content = versions.draft_content(db, "main")
    main = content.registry.get("main")
    assert main is not None and main.loaded.source == "main@draft"
    assert main.loaded.definition.states["language"].text == "Pick your language:"
    assert content.tr("fr", "Pick your language:") != "Pick your language:"
    assert sorted(content.registry.names())[0] == "ambassador"
    save(db, edited(db, "next: language", "next: nowhere"))
    with pytest.raises(FlowLoadError, match="nowhere"):
        versions.draft_content(db, "main")


def test_an_unknown_flow_or_number_is_refused(db: Session) -> None:
    with pytest.raises(UnknownFlow):
        versions.get_draft(db, "nope")
    with pytest.raises(UnknownFlow):
        versions.get_version(db, "main", 7)
    assert versions.history(db, "nope") == []


def test_two_publishes_at_once_make_one_version(seeded: Engine) -> None:
    with Session(seeded) as session:
        draft = save(session, edited(session))
        session.commit()
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def publish() -> None:
        with Session(seeded) as session:
            start.wait()
            try:
                versions.publish(
                    session, flow="main", revision=draft.revision, note="", by="a", now=NOW
                )
                session.commit()
                outcomes.append("published")
            except NotPublishable as exc:  # the second waited, then found it published
                outcomes.append(str(exc))

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["main@draft: nothing changed since version 2", "published"]
    with Session(seeded) as session:
        assert [v.number for v in versions.history(session, "main")] == [2, 1]
