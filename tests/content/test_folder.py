"""Published versions written back as the repository's files, and read again: a round trip."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlmodel import Session

from bot.content import versions
from bot.content.assemble import default_base
from bot.content.files import AREAS_FILE, check_flows
from bot.content.folder import ImportRefused, read_folder, write_folder
from bot.content.imports import import_drafts
from bot.content.store import FILES, Status, published
from bot.i18n.catalog import Catalogs, po_path, read_catalog
from tests.conftest import ROOT
from tests.content.conftest import NOW


def export(db: Session, target: Path) -> list[str]:
    return write_folder(
        target, published(db), locales=ROOT / "locales", areas_file=ROOT / "flows" / AREAS_FILE
    )


def test_the_export_is_the_repository_layout_and_passes_the_checks(
    db: Session, tmp_path: Path
) -> None:
    lines = export(db, tmp_path)
    assert any(line.endswith("main version 1") for line in lines)
    assert (tmp_path / "flows" / "main.yaml").read_text(encoding="utf-8") == (
        ROOT / "flows" / "main.yaml"
    ).read_text(encoding="utf-8")
    assert (tmp_path / "flows" / AREAS_FILE).is_file()
    _, issues = check_flows([tmp_path / "flows"], Catalogs.load(tmp_path / "locales"))
    assert issues == []
    ln = read_catalog(po_path(tmp_path / "locales", "ln"), "ln")
    assert ln["Yes"].string == "Iyo"  # the code's strings come along
    report = ln["Report something"]
    assert report.user_comments[0].startswith("review:") and not report.fuzzy
    fr = read_catalog(po_path(tmp_path / "locales", "fr"), "fr")
    assert fr["Report something"].user_comments == ["reviewed: files"]
    assert ("flows/main.yaml", 17) in fr["Report something"].locations


def test_export_then_import_then_publish_gives_the_same_version(
    db: Session, tmp_path: Path
) -> None:
    draft = versions.get_draft(db, "main")
    draft = versions.save_draft(
        db,
        flow="main",
        revision=draft.revision,
        source=draft.source.replace("Choose your language:", "Your language:"),
        texts={"fr": {"Choose your language:": "Votre langue :"}},
        by="alice",
        now=NOW,
    )
    second = versions.publish(db, flow="main", revision=draft.revision, note="", by="a", now=NOW)
    export(db, tmp_path)
    versions.rollback(db, flow="main", number=1, note="", by="a", now=NOW)
    found = read_folder(tmp_path / "flows", tmp_path / "locales", by="bob", now=NOW)
    import_drafts(db, found, by="bob", now=NOW)
    imported = versions.get_draft(db, "main")
    again = versions.publish(db, flow="main", revision=imported.revision, note="", by="b", now=NOW)
    assert again.number == 4
    assert (again.source, again.translations, again.digest) == (
        second.source,
        second.translations,
        second.digest,
    )
    entry = again.translations["fr"]["Your language:"]
    assert (entry.status, entry.by, entry.at) == (Status.DRAFT, "alice", NOW)


def test_an_entry_without_a_status_comment_is_reviewed_by_whoever_imports(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    shutil.copytree(ROOT / "locales", tmp_path / "locales")
    read = read_folder(tmp_path / "flows", tmp_path / "locales", by="bob", now=NOW)
    found = {f.flow: f for f in read}
    entry = found["main"].translations["fr"]["Report something"]
    assert (entry.status, entry.by, entry.at) == (Status.REVIEWED, "bob", NOW)
    seeded = {f.flow: f for f in read_folder(ROOT / "flows", ROOT / "locales", by=FILES, now=None)}
    assert seeded["main"].translations["fr"]["Report something"].by == FILES


def test_a_malformed_import_is_refused_whole_with_file_entry_and_reason(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    shutil.copytree(ROOT / "locales", tmp_path / "locales")
    (tmp_path / "flows" / "tip.yaml").write_text("flow: tip\nstates: [", encoding="utf-8")
    po = po_path(tmp_path / "locales", "fr")
    text = po.read_text(encoding="utf-8")
    po.write_text(
        text.replace('msgstr "Signaler un cas"', 'msgstr "Signaler {numero}"'), encoding="utf-8"
    )
    with pytest.raises(ImportRefused) as caught:
        read_folder(tmp_path / "flows", tmp_path / "locales", by="bob", now=NOW)
    problems = caught.value.problems
    assert any("tip.yaml:2: not valid YAML" in p for p in problems), problems
    assert any(
        "fr/LC_MESSAGES/messages.po: 'Report something': placeholders ['numero'] differ" in p
        for p in problems
    ), problems


def test_a_po_file_that_does_not_parse_is_refused_with_its_line(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    shutil.copytree(ROOT / "locales", tmp_path / "locales")
    po = po_path(tmp_path / "locales", "st")
    po.write_text(po.read_text(encoding="utf-8") + '\nmsgid "x"\nnonsense here\n', encoding="utf-8")
    with pytest.raises(ImportRefused, match=r"st/LC_MESSAGES/messages\.po:\d+: not a PO file"):
        read_folder(tmp_path / "flows", tmp_path / "locales", by="bob", now=NOW)


def test_the_base_is_the_files_of_the_settings() -> None:
    assert default_base().areas is not None
