"""Publishing, history, rollback, diff and graph of a flow in the team web (admins)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.content import versions
from bot.models import AuditEntry
from tests.admin.conftest import Web
from tests.admin.test_flows import draft, editor, save

__all__ = ["editor"]

MENU = "{hotline_name}. You need not give your name."
NEW = "{hotline_name}. Your name is not needed."


def reword(web: Web) -> None:
    """The main menu reworded in all four languages, in the draft."""
    fields = {
        "en__text": NEW,
        "fr__text": "{hotline_name}. Votre nom n'est pas demande.",
        "ln__text": "{hotline_name}. Kombo na yo esengeli te.",
        "st__text": "{hotline_name}. Lebitso la hao ha le hlokahale.",
    }
    assert save(web, **fields) == 303


def publish(web: Web, note: str = "Main menu reworded") -> int:
    revision = str(draft(web).revision)
    return web.post("/flows/main/publish", {"revision": revision, "note": note}).status_code


def test_a_valid_draft_is_published_with_who_when_and_note_and_audited(editor: Web) -> None:
    reword(editor)
    assert publish(editor) == 303
    with Session(editor.engine) as db:
        newest = versions.history(db, "main")[0]
        audited = db.exec(select(AuditEntry).where(col(AuditEntry.action) == "publish_flow")).all()
    assert (newest.number, newest.published_by, newest.note) == (2, "ada", "Main menu reworded")
    assert NEW in newest.source
    assert [a.actor for a in audited] == ["ada"]
    page = editor.client.get("/flows/main/history").text
    assert 'id="version-2"' in page and "Main menu reworded" in page and "by ada" in page


def test_an_invalid_draft_is_refused_with_each_issue_at_its_state(editor: Web) -> None:
    assert save(editor, st__label__1="Tlaleha " * 30) == 303
    answer = editor.post(
        "/flows/main/publish", {"revision": str(draft(editor).revision), "note": "Too long"}
    )
    assert answer.status_code == 422
    assert 'href="#state-menu"' in answer.text and "Sesotho" in answer.text
    with Session(editor.engine) as db:
        assert len(versions.history(db, "main")) == 1


def test_a_publish_from_a_stale_page_is_refused(editor: Web) -> None:
    opened = draft(editor).revision
    reword(editor)
    answer = editor.post("/flows/main/publish", {"revision": str(opened), "note": "stale"})
    assert answer.status_code == 409
    with Session(editor.engine) as db:
        assert len(versions.history(db, "main")) == 1


def test_a_rollback_publishes_the_old_version_again_as_a_new_number(editor: Web) -> None:
    reword(editor)
    assert publish(editor) == 303
    answer = editor.post("/flows/main/rollback", {"number": "1", "note": "Back to the old menu"})
    assert answer.status_code == 303
    with Session(editor.engine) as db:
        newest = versions.history(db, "main")[0]
        one = versions.get_version(db, "main", 1)
    assert (newest.number, newest.restored_from, newest.source) == (3, 1, one.source)
    assert "restores version 1" in editor.client.get("/flows/main/history").text
    assert editor.post("/flows/main/rollback", {"number": "9", "note": "x"}).status_code == 404


def test_the_diff_shows_structure_and_text_per_language(editor: Web) -> None:
    reword(editor)
    assert save(editor, **{"to__option__6": "help:"}) == 303
    page = editor.client.get("/flows/main/diff?from=1&to=draft")
    assert page.status_code == 200
    assert MENU in page.text and NEW in page.text
    assert "Lebitso la hao ha le hlokahale" in page.text
    assert "where option 6 leads" in page.text
    assert editor.client.get("/flows/main/diff?from=1&to=1").text.count("No changes") == 1
    assert editor.client.get("/flows/main/diff?from=x").status_code == 422


def test_the_graph_is_drawn_by_the_server_with_issues_marked(editor: Web) -> None:
    page = editor.client.get("/flows/screening/graph")
    assert page.status_code == 200
    assert "<svg" in page.text and 'href="#state-S0"' in page.text
    assert save(editor, st__label__1="Tlaleha " * 30) == 303
    assert 'class="state menu flagged' in editor.client.get("/flows/main/graph").text
    assert editor.client.get("/flows/main/graph?version=1").status_code == 200
