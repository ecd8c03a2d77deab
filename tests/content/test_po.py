"""One flow's translations as a PO file for translators: export, preview, import into the draft."""

from __future__ import annotations

import io

import pytest
from babel.messages.pofile import read_po, write_po
from sqlmodel import Session, col, select

from bot.content import versions
from bot.content.folder import ImportRefused
from bot.content.po import apply_po_import, export_po, file_name, preview_po_import
from bot.content.store import Status
from bot.content.versions import StaleDraft
from bot.models import AuditEntry
from tests.content.conftest import NOW


def edited(data: bytes, lang: str, **changes: tuple[str, bool]) -> bytes:
    """The PO file with some entries' text and fuzzy mark changed (msgid -> (text, fuzzy))."""
    catalog = read_po(io.BytesIO(data), locale=lang)
    for msgid, (text, fuzzy) in changes.items():
        message = catalog[msgid]
        message.string = text
        if fuzzy:
            message.flags.add("fuzzy")
        else:
            message.flags.discard("fuzzy")
    out = io.BytesIO()
    write_po(out, catalog)
    return out.getvalue()


def test_the_export_marks_entries_needing_review_fuzzy(db: Session) -> None:
    data = export_po(versions.get_version(db, "main", 1), "ln")
    catalog = read_po(io.BytesIO(data), locale="ln")
    report = catalog["Report something"]
    assert report.fuzzy and report.string == "Koyebisa likambo"
    assert report.user_comments[0].startswith('review: "koyebisa likambo"')
    assert report.auto_comments == ["screen menu"]
    assert ("main.yaml", 17) in report.locations
    fr = read_po(io.BytesIO(export_po(versions.get_draft(db, "main"), "fr")), locale="fr")
    assert not fr["Report something"].fuzzy
    assert fr["Report something"].user_comments == ["reviewed: files"]
    assert next(m.id for m in fr if m.id) == "Choose your language:"  # the flow's order
    assert file_name("main", 1, "fr") == "main-1.fr.po"
    with pytest.raises(ValueError, match="not 'en'"):
        export_po(versions.get_version(db, "main", 1), "en")


def test_an_import_previews_then_changes_the_draft(db: Session) -> None:
    data = export_po(versions.get_draft(db, "main"), "ln")
    changes = {
        "Report something": ("Koyebisa likambo", False),
        "Get help now": ("Lisalisi sikoyo", False),
    }
    changed = edited(data, "ln", **changes)
    preview = preview_po_import(db, "main", "ln", changed, by="nkulu", now=NOW)
    assert preview.ok and preview.revision == 1
    kinds = {c.msgid: c.kind for c in preview.changes}
    assert kinds == {"Report something": "reviewed", "Get help now": "changed"}
    assert versions.get_draft(db, "main").revision == 1  # a preview writes nothing
    draft = apply_po_import(
        db, flow="main", lang="ln", data=changed, revision=1, by="nkulu", now=NOW
    )
    report = draft.translations["ln"]["Report something"]
    assert (report.status, report.by) == (Status.REVIEWED, "nkulu")
    help_now = draft.translations["ln"]["Get help now"]
    assert (help_now.text, help_now.status) == ("Lisalisi sikoyo", Status.DRAFT)
    assert draft.revision == 2
    reasons = db.exec(select(AuditEntry.reason).where(col(AuditEntry.action) == "import_po"))
    assert list(reasons) == ["main ln: 2 translation(s) into the draft"]
    with pytest.raises(StaleDraft):
        apply_po_import(db, flow="main", lang="ln", data=changed, revision=1, by="n", now=NOW)


BAD = {
    "placeholder": (
        "{hotline_name}. You need not give your name.",
        "{nom}. Vous n'avez pas à donner votre nom.",
        "placeholders ['nom'] differ from the English ['hotline_name']",
    ),
    "unknown text": ("Not in this flow", "Pas ici", "'Not in this flow' is not a text of main"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_broken_import_is_refused_whole(db: Session, case: str) -> None:
    msgid, text, reason = BAD[case]
    data = export_po(versions.get_draft(db, "main"), "fr")
    catalog = read_po(io.BytesIO(data), locale="fr")
    if msgid in catalog:
        catalog[msgid].string = text
    else:
        catalog.add(msgid, text)
    catalog["Report something"].string = "Signaler"
    out = io.BytesIO()
    write_po(out, catalog)
    preview = preview_po_import(db, "main", "fr", out.getvalue(), by="a", now=NOW)
    assert not preview.ok and preview.changes == []
    assert len(preview.refused) == 1 and reason in preview.refused[0]
    assert preview.refused[0].startswith("main-draft.fr.po:")
    with pytest.raises(ImportRefused):
        apply_po_import(
            db, flow="main", lang="fr", data=out.getvalue(), revision=1, by="a", now=NOW
        )
    assert versions.get_draft(db, "main").revision == 1


def test_a_file_that_is_not_po_or_for_another_language_is_refused(db: Session) -> None:
    broken = preview_po_import(db, "main", "fr", b'msgid "x"\nnonsense\n', by="a", now=NOW)
    assert not broken.ok and "not a PO file" in broken.refused[0]
    st = export_po(versions.get_draft(db, "main"), "st")
    other = preview_po_import(db, "main", "fr", st, by="a", now=NOW)
    assert any("this file is for 'st', not 'fr'" in p for p in other.refused)
