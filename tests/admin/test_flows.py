"""The flow editor's list and outline (admins): texts in four languages with fit meters,
targets from a list, states and options added, moved, removed; a stale save keeps the text."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session

from bot.content import versions
from bot.content.seed import seed
from bot.content.store import Draft, Status
from tests.admin.conftest import Web
from tests.conftest import ROOT

STATE = "/flows/main/states/menu"


@pytest.fixture
def editor(web: Web) -> Web:
    """The team web on a database holding version 1 of every flow, an admin signed in."""
    seed(web.engine, ROOT / "flows", ROOT / "locales", now=web.clock.now)
    web.as_role("admin")
    return web


def draft(web: Web, flow: str = "main") -> Draft:
    with Session(web.engine) as db:
        return versions.get_draft(db, flow)


def save(web: Web, path: str = STATE, **fields: str) -> int:
    """Post a state's form (the draft's current revision unless told); the status."""
    data = {"revision": str(draft(web).revision), **fields}
    return web.post(path, {k.replace("__", ":"): v for k, v in data.items()}).status_code


@pytest.mark.parametrize("role", ["operator", "supervisor"])
def test_only_admins_open_or_change_flows(web: Web, role: str) -> None:
    seed(web.engine, ROOT / "flows", ROOT / "locales", now=web.clock.now)
    web.as_role(role)
    assert web.client.get("/flows", follow_redirects=False).status_code == 403
    assert web.client.get("/flows/main", follow_redirects=False).status_code == 403
    assert web.post(STATE, {"revision": "1", "en:text": "Hacked"}).status_code == 403
    assert 'href="/flows"' not in web.client.get("/queue").text
    assert draft(web).revision == 1


def test_the_list_shows_versions_drafts_and_translation_completeness(editor: Web) -> None:
    page = editor.client.get("/flows")
    assert page.status_code == 200
    row = re.search(r'<tr id="flow-main">.*?</tr>', page.text, re.S)
    assert row is not None
    assert "version 1" in row.group(0) and "same as published" in row.group(0)
    assert len(re.findall(r"\b(\d+) of \1\b", row.group(0))) == 3  # fr, ln, st complete
    assert 'href="/flows"' in editor.client.get("/queue").text


def test_the_outline_shows_texts_side_by_side_targets_actions_and_meters(editor: Web) -> None:
    page = editor.client.get("/flows/screening").text
    assert 'id="state-S0"' in page and 'id="state-U1"' in page
    assert 'name="st:text"' in page and 'name="fr:text"' in page
    assert "sets priority P1 (P1: U1 in danger now)" in page
    assert 'name="to:answer:yes"' in page
    assert "USSD " in page and 'data-fit="' in page
    assert "needs native review" in page
    assert "<script>" not in page and "style=" not in page


def test_an_edit_of_four_languages_is_saved_in_the_draft_only(editor: Web) -> None:
    assert (
        save(
            editor,
            en__text="{hotline_name}. Your name is not needed.",
            fr__text="{hotline_name}. Votre nom n'est pas demande.",
            st__text="{hotline_name}. Lebitso la hao ha le hlokahale.",
        )
        == 303
    )
    saved = draft(editor)
    assert "{hotline_name}. Your name is not needed." in saved.source
    english = "{hotline_name}. Your name is not needed."
    assert saved.translations["fr"][english].status is Status.DRAFT
    assert saved.translations["ln"][english].status is Status.NEEDS_REVIEW  # English changed
    assert saved.updated_by == "ada"
    with Session(editor.engine) as db:
        assert versions.history(db, "main")[0].number == 1  # nothing published


def test_a_target_is_chosen_from_the_list(editor: Web) -> None:
    assert save(editor, **{"to__option__6": "help:"}) == 303
    assert "{label: Change language, next: 'help:'}" in draft(editor).source


def test_options_are_added_moved_and_removed_keeping_what_was_typed(editor: Web) -> None:
    fields = {"new-label": "Call us", "new-target": "help:", "do": "option-add"}
    assert save(editor, fr__label__1="Signaler", **fields) == 303
    saved = draft(editor)
    assert "{label: Call us, next: 'help:'}" in saved.source
    assert saved.translations["fr"]["Report something"].text == "Signaler"
    assert save(editor, do="option-up:7") == 303
    assert draft(editor).source.index("Call us") < draft(editor).source.index("Change language")
    assert save(editor, do="option-remove:6") == 303
    assert "Call us" not in draft(editor).source


def test_states_are_added_moved_and_removed(editor: Web) -> None:
    added = {"name": "thanks", "kind": "end", "text": "Thank you", "after": "language"}
    assert save(editor, "/flows/main/states", **added) == 303
    assert "  thanks:\n    type: end" in draft(editor).source
    page = editor.client.get("/flows/main").text
    assert "unreachable" in page  # the new screen's issue, listed and linked to it
    assert save(editor, "/flows/main/states/thanks", do="down") == 303
    assert draft(editor).source.index("thanks:") > draft(editor).source.index("  menu:")
    assert save(editor, "/flows/main/states/thanks", do="remove") == 303
    assert "thanks" not in draft(editor).source


def test_a_refused_edit_keeps_the_text_and_saves_nothing(editor: Web) -> None:
    before = draft(editor)
    answer = editor.post(
        "/flows/main/states/language",
        {"revision": str(before.revision), "fr:text": "Choisissez", "do": "remove"},
    )
    assert answer.status_code == 422
    assert "cannot be removed" in answer.text or "starts" in answer.text
    assert "Choisissez" in answer.text
    assert draft(editor) == before


def test_the_meter_follows_what_is_typed_without_saving(editor: Web) -> None:
    before = draft(editor)
    answer = editor.post(
        f"{STATE}/fit", {"revision": str(before.revision), "st:label:1": "Tlaleha " * 30}
    )
    assert answer.status_code == 200
    meters = re.findall(r'data-fit="(\w+)"', answer.text)
    assert len(meters) == 4 and meters[3] == "over" and meters[0] != "over"
    assert "Too long for a USSD screen" in answer.text
    assert draft(editor) == before


def test_two_editors_the_second_save_is_a_conflict_that_keeps_the_text(editor: Web) -> None:
    opened = draft(editor).revision  # both opened the page at this revision
    assert save(editor, revision=str(opened), fr__text="Premier editeur : {hotline_name}") == 303
    answer = editor.post(
        STATE, {"revision": str(opened), "fr:text": "Second editeur : {hotline_name}"}
    )
    assert answer.status_code == 409
    assert "Second editeur" in answer.text  # kept to save again
    assert "Premier editeur" in answer.text  # beside what the draft holds now
    assert f'name="revision" value="{opened + 1}"' in answer.text
    menu = "{hotline_name}. You need not give your name."
    assert draft(editor).translations["fr"][menu].text == "Premier editeur : {hotline_name}"
    assert save(editor, revision=str(opened + 1), fr__text="Second editeur : {hotline_name}") == 303
    assert draft(editor).translations["fr"][menu].text == "Second editeur : {hotline_name}"


def test_the_text_view_saves_a_broken_draft_and_shows_why(editor: Web) -> None:
    revision = draft(editor).revision
    answer = editor.post("/flows/main/source", {"revision": str(revision), "source": "states: ["})
    assert answer.status_code == 303
    assert draft(editor).source == "states: ["
    page = editor.client.get("/flows/main/source").text
    assert "not valid YAML" in page
    assert "does not parse" in editor.client.get("/flows/main").text


@pytest.mark.parametrize(
    "data",
    [{"revision": "x"}, {"revision": "1", "en:text": "y" * 3000}],
)
def test_malformed_input_is_refused(editor: Web, data: dict[str, str]) -> None:
    assert editor.post(STATE, data).status_code == 422


def test_an_unknown_flow_is_not_found(editor: Web) -> None:
    assert editor.client.get("/flows/nowhere").status_code == 404


def test_a_translation_is_marked_reviewed_by_who_when(editor: Web) -> None:
    menu = "{hotline_name}. You need not give your name."
    assert draft(editor).translations["ln"][menu].status is Status.NEEDS_REVIEW
    assert save(editor, **{"reviewed:ln:text": "1"}) == 303
    entry = draft(editor).translations["ln"][menu]
    assert (entry.status, entry.by, entry.at) == (Status.REVIEWED, "ada", editor.clock.now)
    page = editor.client.get("/flows/main").text
    menu_section = page[page.index('id="state-menu"') :]
    assert 'name="reviewed:ln:text"' not in menu_section
