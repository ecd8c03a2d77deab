"""Stored versions made into content: code strings from the files, wording per version."""

from __future__ import annotations

from sqlmodel import Session

from bot.content import versions
from bot.content.assemble import code_strings, content_of, default_base, digest_of, parse
from bot.content.store import Entry, Status, published
from tests.conftest import ROOT


def test_the_files_give_the_code_strings_not_the_flow_texts() -> None:
    fr = code_strings(ROOT / "locales")["fr"]
    assert fr["Yes"] == "Oui"
    assert "Choose your language:" not in fr  # a flow's text: its versions hold it
    assert "Shelter" in fr  # a code string that a flow uses too


def test_the_published_set_runs_with_each_version_as_its_digest(db: Session) -> None:
    stored = published(db)
    content = content_of(default_base(), stored)
    main = content.registry.get("main")
    first = versions.get_version(db, "main", 1)
    assert main is not None and main.version == first.digest
    assert content.registry.get("main", first.digest) is main
    assert content.tr("fr", "Report something") == "Signaler un cas"
    assert content.tr("fr", "Yes") == "Oui"


def test_the_digest_changes_with_the_wording_only_when_finished(db: Session) -> None:
    first = versions.get_version(db, "main", 1)
    loaded = parse(first.source, "main@1", default_base().areas)
    assert digest_of(loaded, first.translations) == first.digest
    fr = dict(first.translations["fr"])
    fr["Report something"] = Entry("Dire", Status.DRAFT)
    assert digest_of(loaded, {**first.translations, "fr": fr}) != first.digest
