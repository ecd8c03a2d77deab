"""The preview of a draft as each channel shows it (admins), saving nothing."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from bot.models import Case
from tests.admin.conftest import Web
from tests.admin.test_flows import editor, save

__all__ = ["editor"]

TOKEN = re.compile(r'name="token" value="([0-9a-f]+)"')


def reply(web: Web, page: str, text: str, channel: str = "ussd", lang: str = "en") -> str:
    found = TOKEN.search(page)
    assert found is not None
    logs = re.findall(r'name="log" value="([^"]*)"', page)
    data = {"token": found.group(1), "channel": channel, "lang": lang, "reply": text}
    answer = web.client.post(
        "/flows/main/preview",
        data={"csrf": web.csrf(), **data, "log": logs},
        follow_redirects=False,
    )
    assert answer.status_code == 200, answer.text
    return answer.text


def test_the_preview_runs_the_draft_as_a_basic_phone_shows_it(editor: Web) -> None:
    assert save(editor, st__text="{hotline_name}. Ha o tlameha ho re o mang.") == 303
    page = editor.client.get("/flows/main/preview?channel=ussd&lang=st").text
    assert "4 Sesotho" in page
    assert "CON " not in page and "END " not in page
    page = reply(editor, page, "4", lang="st")
    assert "Ha o tlameha ho re o mang." in page  # the draft, not the published wording


def test_sms_and_telegram_previews_show_a_conversation(editor: Web) -> None:
    page = editor.client.get("/flows/main/preview?channel=sms&lang=fr").text
    page = reply(editor, page, "2", channel="sms", lang="fr")
    assert 'class="mine"' in page and 'class="theirs"' in page
    telegram = editor.client.get("/flows/main/preview?channel=telegram&lang=en").text
    assert 'name="reply" value="1"' in telegram  # buttons, not numbers to type


def test_a_preview_saves_nothing(editor: Web) -> None:
    page = editor.client.get("/flows/help/preview?channel=ussd&lang=en").text
    assert "Call the hotline" in page
    with Session(editor.engine) as db:
        assert db.exec(select(Case)).all() == []


def test_a_draft_that_cannot_run_says_why(editor: Web) -> None:
    revision = ""
    page = editor.client.get("/flows/main/source").text
    found = re.search(r'name="revision" value="(\d+)"', page)
    assert found is not None
    revision = found.group(1)
    editor.post("/flows/main/source", {"revision": revision, "source": "states: ["})
    answer = editor.client.get("/flows/main/preview")
    assert answer.status_code == 422
    assert "cannot run" in answer.text
