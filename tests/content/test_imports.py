"""Files taken in as drafts: statuses kept where the text is the same, unpublished edits kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from bot.content import versions
from bot.content.folder import ImportRefused, read_folder
from bot.content.imports import import_drafts
from bot.content.store import Status
from bot.models import AuditEntry
from tests.conftest import ROOT
from tests.content.conftest import NOW


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """Copies of the shipped flows and catalogs, with main's menu text changed."""
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    shutil.copytree(ROOT / "locales", tmp_path / "locales")
    main = tmp_path / "flows" / "main.yaml"
    main.write_text(
        main.read_text(encoding="utf-8").replace("Report something", "Report a problem"),
        encoding="utf-8",
    )
    return tmp_path


def test_files_become_drafts_keeping_statuses_of_unchanged_texts(db: Session, files: Path) -> None:
    found = read_folder(files / "flows", files / "locales", by="bob", now=NOW)
    drafts = {d.flow: d for d in import_drafts(db, found, by="bob", now=NOW)}
    main = drafts["main"]
    assert (main.revision, main.updated_by) == (2, "bob")
    assert "Report a problem" in main.source
    moved = main.translations["fr"]["Report a problem"]  # the English changed in place
    assert (moved.text, moved.status) == ("Signaler un cas", Status.NEEDS_REVIEW)
    ln = main.translations["ln"]["Check my situation"]
    assert ln.status is Status.NEEDS_REVIEW  # as the seeded draft had it
    seeded = versions.get_version(db, "main", 1).translations["fr"]
    same = [m for m, e in seeded.items() if e.status is Status.REVIEWED and m in main.source]
    assert same and all(main.translations["fr"][m] == seeded[m] for m in same)  # by "files"
    assert versions.draft_issues(db, "main") == []
    reasons = db.exec(select(AuditEntry.reason).where(col(AuditEntry.action) == "import_flow"))
    assert "main from flows/main.yaml: draft revision 2" in [
        r.replace(str(files) + "/", "") for r in reasons if r
    ]


def test_a_draft_with_unpublished_edits_is_not_replaced_unless_asked(
    db: Session, files: Path
) -> None:
    draft = versions.get_draft(db, "main")
    mine = versions.save_draft(
        db,
        flow="main",
        revision=draft.revision,
        texts={"fr": {"Get help now": "A l'aide"}},
        by="alice",
        now=NOW,
    )
    found = read_folder(files / "flows", files / "locales", by="bob", now=NOW)
    with pytest.raises(ImportRefused, match="the draft of main has edits not published"):
        import_drafts(db, found, by="bob", now=NOW)
    assert versions.get_draft(db, "main") == mine
    replaced = {d.flow: d for d in import_drafts(db, found, by="bob", now=NOW, replace=True)}
    assert replaced["main"].revision == mine.revision + 1
