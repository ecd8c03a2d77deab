"""Translations as PO files from the editor: download, upload previewed, applied when confirmed."""

from __future__ import annotations

import html
import io
import re

from babel.messages.pofile import read_po, write_po

from bot.content.store import Status
from tests.admin.conftest import Web
from tests.admin.test_flows import draft, editor

__all__ = ["editor"]

MENU = "{hotline_name}. You need not give your name."


def download(web: Web, side: str = "draft", lang: str = "st") -> bytes:
    answer = web.client.get(f"/flows/main/po/{side}/{lang}")
    assert answer.status_code == 200
    assert f"main-{side}.{lang}.po" in answer.headers["content-disposition"]
    return answer.content


def upload(web: Web, data: bytes, lang: str = "st") -> str:
    answer = web.client.post(
        "/flows/main/po",
        data={"csrf": web.csrf(), "lang": lang},
        files={"file": ("main.st.po", data, "text/x-gettext-translation")},
    )
    assert answer.status_code in (200, 422), answer.text
    return answer.text


def test_a_po_file_round_trips_through_the_editor_previewed_first(editor: Web) -> None:
    catalog = read_po(io.BytesIO(download(editor)))
    catalog[MENU].string = "{hotline_name}. Ha o tlameha ho re o mang."
    catalog[MENU].flags.discard("fuzzy")
    out = io.BytesIO()
    write_po(out, catalog)
    page = upload(editor, out.getvalue())
    assert "Ha o tlameha ho re o mang." in page
    assert (
        draft(editor).translations["st"][MENU].text != "{hotline_name}. Ha o tlameha ho re o mang."
    )
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    answer = editor.post(
        "/flows/main/po/apply",
        {"lang": "st", "revision": fields["revision"], "data": html.unescape(fields["data"])},
    )
    assert answer.status_code == 303
    entry = draft(editor).translations["st"][MENU]
    assert (entry.text, entry.status) == (
        "{hotline_name}. Ha o tlameha ho re o mang.",
        Status.DRAFT,
    )


def test_a_po_file_with_broken_placeholders_is_refused_whole(editor: Web) -> None:
    data = download(editor).replace(b"{hotline_name}. Thuso", b"{name}. Thuso")
    page = upload(editor, data)
    assert "refused whole" in page
    assert 'action="/flows/main/po/apply"' not in page


def test_a_published_version_downloads_and_an_unknown_one_is_not_found(editor: Web) -> None:
    assert b"msgid" in download(editor, "1", "fr")
    assert editor.client.get("/flows/main/po/9/fr").status_code == 404
    assert editor.client.get("/flows/main/po/1/en").status_code == 422
