"""Every page of the team web in French, Lingala and Sesotho shows no English UI text where the
``web`` catalog has a translation: templates, imported macros, words built in Python, flash
messages, refusals, htmx fragments and error pages (one app with a busy team for the module).

A page's visible text (text nodes, and the ``title``/``aria-label``/``placeholder``/``alt``/
``data-label`` attributes) is searched for each English msgid whose translation differs. Text
inside an element marked with another ``lang`` (a flow's English source, a service's English
detail, a language's own name) or ``translate="no"`` (codes: a flow's or a state's name) is
what it says it is and is skipped. Long msgids are searched anywhere; short ones only as a
whole text (a name or a code would contain a short word anywhere).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from functools import cache
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from jinja2 import ChoiceLoader, DictLoader, FileSystemLoader
from sqlmodel import Session, select

from admin.render import DOMAIN, TEMPLATES, NoLanguage, Pages
from admin.routes import audit_labels
from bot.content.seed import seed
from bot.i18n.catalog import po_path, read_catalog
from bot.models import Operator, Shift
from tests.admin.conftest import Web
from tests.api import add_referral, add_service, make_app, new_case, seed_team
from tests.cases.helpers import T0
from tests.conftest import ROOT, TEST_PHONES, sqlite_copy

LANGS = ("fr", "ln", "st")
LONG = 12
"""A msgid's literal part this long or longer is searched anywhere in the page's text."""
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%%")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
VOID |= {"track", "wbr", "path", "rect", "circle", "line", "use", "stop"}
SHOWN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt", "data-label")
DATA = "-data-"
"""What the parser counts as the language of a ``translate="no"`` element."""
TEMPLATES_BY_TEST = {
    "without.html": '{% import "case_macros.html" as m %}{{ m.duration(93600) }}',
    "with.html": '{% import "case_macros.html" as m with context %}{{ m.duration(93600) }}',
}


class Visible(HTMLParser):
    """The text a reader of a page in ``lang`` sees or hears, one chunk per text node or
    attribute; another language's text, codes and scripts are left out."""

    def __init__(self, lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = lang
        self.stack: list[tuple[str, str | None]] = []
        self.chunks: list[str] = []

    def _elsewhere(self) -> bool:
        """Inside a script, another language's element or a code."""
        for tag, lang in reversed(self.stack):
            if tag in ("script", "style") or lang == DATA:
                return True
            if lang is not None:
                return lang != self.lang
        return False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        lang = DATA if names.get("translate") == "no" else names.get("lang")
        if tag not in VOID and tag != "html":
            self.stack.append((tag, lang))
        if self._elsewhere() or lang not in (None, self.lang):
            return
        for name in SHOWN_ATTRIBUTES:
            self.add(names.get(name) or "")
        if tag == "input" and names.get("type") in ("submit", "button"):
            self.add(names.get("value") or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if not self._elsewhere():
            self.add(data)

    def add(self, text: str) -> None:
        flat = " ".join(text.split())
        if flat:
            self.chunks.append(flat)


def visible(html: str, lang: str) -> list[str]:
    """The page's visible text chunks."""
    parser = Visible(lang)
    parser.feed(html)
    parser.close()
    return parser.chunks


def forms(value: object) -> tuple[str, ...]:
    """A catalog entry's msgid or msgstr as its forms (one, or a plural's several)."""
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()


@cache
def english_of(lang: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """What of the English must not show in ``lang``: the literal parts (``LONG`` or longer) of
    each msgid translated differently, and the short msgids; neither when some translation
    says the same (a word French and English share)."""
    catalog = read_catalog(po_path(ROOT / "locales", lang, DOMAIN), lang)
    long: set[str] = set()
    short: set[str] = set()
    translations: list[str] = []
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        ids, strings = forms(message.id), forms(message.string)
        translations.extend(s for s in strings if s)
        for msgid in ids:
            if msgid in strings or not all(strings):
                continue
            long.update(p for p in map(str.strip, PLACEHOLDER.split(msgid)) if len(p) >= LONG)
            if not PLACEHOLDER.search(msgid):
                short.add(msgid.strip())
    everything = "\n".join(translations)
    whole = set(everything.splitlines())
    return tuple(sorted(p for p in long if p not in everything)), frozenset(short - whole)


def english_left(html: str, lang: str) -> list[str]:
    """The English UI texts a page in ``lang`` still shows (none when it is all translated)."""
    chunks = visible(html, lang)
    text = "\n".join(chunks)
    long, short = english_of(lang)
    found = {p for p in long if p in text}
    found.update(c for c in chunks if c in short or c.rstrip(":.") in short)
    return sorted(found)


class Site:
    """The module's app, the team on it, and what was made there."""

    def __init__(self, web: Web) -> None:
        self.web = web
        self.refs: dict[str, str] = {}
        self.service = 0
        self.shift = 0

    def build(self) -> None:
        """Cases in every state (one late, one closed, one held with a note and a referral),
        a service, a second shift, a changed flow draft."""
        web, engine = self.web, self.web.engine
        self.refs["new"] = new_case(engine, address=TEST_PHONES[1], consent_contact=True)
        self.refs["late"] = new_case(engine, priority="P2", at=T0 - timedelta(days=2, hours=3))
        self.refs["closed"] = new_case(engine, priority="P3", status="closed")
        self.refs["held"] = held = new_case(
            engine, priority="P2", address=TEST_PHONES[1], consent_contact=True, consent_refer="yes"
        )
        add_referral(engine, held, service="Translated shelter")
        self.service = add_service(engine, name="Maison Claire", organisation="Test org")
        web.as_("amani")
        for path, data in [
            (f"/cases/{held}/claim", {}),
            (f"/cases/{held}/status", {"to": "triaged"}),
            (f"/cases/{held}/notes", {"body": "called back"}),
        ]:
            assert web.post(path, data).status_code == 303, path
        with Session(engine) as db:
            shift = Shift(
                starts_at=T0 + timedelta(days=1),
                ends_at=T0 + timedelta(days=1, hours=12),
                primary_id=web.ids["lerato"],
            )
            db.add(shift)
            db.commit()
            assert shift.id is not None
            self.shift = shift.id
        web.as_("ada")
        reworded = {"revision": "1", "en:text": "{hotline_name}. Your name is not needed."}
        assert web.post("/flows/main/states/menu", reworded).status_code == 303
        web.sign_out()

    def speaking(self, lang: str) -> Web:
        """Everyone on the team reads ``lang`` from now on."""
        with Session(self.web.engine) as db:
            for operator in db.exec(select(Operator)).all():
                operator.lang = lang
                db.add(operator)
            db.commit()
        return self.web

    def get(self, path: str, *, status: int = 200) -> str:
        """A page as the signed-in member sees it (its status checked)."""
        answer = self.web.client.get(path, follow_redirects=False)
        assert answer.status_code == status, f"{path}: {answer.status_code}"
        return answer.text


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One app for the module (on SQLite: what a page says does not depend on the database)."""
    folder = tmp_path_factory.mktemp("translated")
    app, clock = make_app(sqlite_copy(folder / "hotline.db"), folder)
    with TestClient(app, headers={"Accept": "text/html"}) as client:
        engine = app.state.engine
        web = Web(app, client, clock, engine, seed_team(engine))
        seed(engine, ROOT / "flows", ROOT / "locales", now=clock.now)
        made = Site(web)
        made.build()
        yield made


def admin_pages(site: Site) -> list[tuple[str, int]]:
    """Every page (and htmx fragment) an admin opens, and its status."""
    pages = [
        ("/queue", 200),
        ("/queue?who=mine&priority=P1", 200),
        ("/queue/rows", 200),
        ("/rota", 200),
        ("/rota/new", 200),
        (f"/rota/{site.shift}", 200),
        ("/directory", 200),
        ("/directory/new", 200),
        ("/directory/import", 200),
        (f"/directory/{site.service}", 200),
        ("/team", 200),
        ("/team/new", 200),
        ("/audit", 200),
        ("/audit?case=NOPE-00", 404),
        ("/flows", 200),
        ("/flows/main", 200),
        ("/flows/main/source", 200),
        ("/flows/main/preview", 200),
        ("/flows/main/preview?channel=telegram&lang=fr", 200),
        ("/flows/main/preview?channel=sms", 200),
        ("/flows/main/preview?channel=fax", 422),
        ("/flows/main/history", 200),
        ("/flows/main/diff?from=1&to=draft", 200),
        ("/flows/main/graph", 200),
        ("/stats", 200),
        ("/stats?p=2026-Q1", 200),
        ("/stats?p=2026", 200),
        ("/stats?p=yesterday", 422),
        ("/account", 200),
        ("/simulator", 200),
        ("/no/such/page", 404),
        ("/cases/NOPE-00", 404),
    ]
    for ref in site.refs.values():
        pages += [(f"/cases/{ref}", 200), (f"/cases/{ref}/referrals/new", 200)]
    return pages


def left_on(site: Site, lang: str, pages: list[tuple[str, int]]) -> dict[str, list[str]]:
    """The English left on each page (pages without any left out)."""
    left = {}
    for path, status in pages:
        html = site.get(path, status=status)
        assert f'<html lang="{lang}">' in html or "<html" not in html, f"{path} not in {lang}"
        if found := english_left(html, lang):
            left[path] = found
    return left


def report(left: dict[str, list[str]]) -> str:
    return "\n".join(f"{page}: {found}" for page, found in left.items())


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_an_admin_opens_is_in_their_language(site: Site, lang: str) -> None:
    site.speaking(lang).as_("ada")
    left = left_on(site, lang, admin_pages(site))
    fit = site.web.post("/flows/main/states/menu/fit", {"revision": "2", "fr:text": "Bonjour"})
    assert fit.status_code == 200
    if found := english_left(fit.text, lang):
        left["POST /flows/main/states/menu/fit"] = found
    assert left == {}, report(left)


@pytest.mark.parametrize("lang", LANGS)
def test_an_operator_s_pages_and_refusals_are_in_their_language(site: Site, lang: str) -> None:
    web = site.speaking(lang)
    web.as_("lerato")
    pages = [("/queue", 200), ("/rota", 200), ("/directory", 200), ("/account", 200)]
    pages += [("/team", 403), ("/stats", 403), ("/flows/main", 403)]
    pages += [(f"/cases/{ref}", 200) for ref in site.refs.values()]
    left = left_on(site, lang, pages)
    held = site.refs["held"]
    refused = web.post(f"/cases/{held}/claim")  # amani holds it
    assert refused.status_code == 409
    not_holder = web.post(f"/cases/{held}/consent", {"police": "yes"})
    assert not_holder.status_code == 403
    no_token = web.client.post(f"/cases/{held}/claim", follow_redirects=False)
    assert no_token.status_code == 403
    for name, answer in [("claim", refused), ("consent", not_holder), ("no token", no_token)]:
        assert f'<html lang="{lang}">' in answer.text, name
        if found := english_left(answer.text, lang):
            left[name] = found
    assert left == {}, report(left)


def flashed(web: Web, path: str, data: dict[str, str]) -> str:
    """The page a form's redirect leads to, with its message."""
    answer = web.post(path, data)
    assert answer.status_code == 303, f"{path}: {answer.status_code}"
    return web.client.get(answer.headers["location"]).text


@pytest.mark.parametrize("lang", LANGS)
def test_messages_after_a_change_and_refused_forms_are_in_their_language(
    site: Site, lang: str
) -> None:
    web = site.speaking(lang)
    web.as_("ada")
    ref = site.refs["new"]
    left: dict[str, list[str]] = {}
    pages = {
        "ack": flashed(web, f"/cases/{ref}/ack", {}),
        "already": flashed(web, f"/cases/{ref}/ack", {}),
        "saved": flashed(web, "/account/language", {"lang": lang}),
    }
    refused = {
        "/directory": {"name": "", "service_type": "nope", "min_age": "x"},
        "/rota": {"starts_at": "tomorrow", "ends_at": "", "primary": ""},
        "/team": {"username": "No Spaces!", "role": "operator", "password": "short"},
        "/stats/case-export": {"password": "short"},
        f"/cases/{ref}/status": {"to": "referred"},
        f"/cases/{site.refs['closed']}/referrals": {"service_id": str(site.service)},
        "/flows/main/states": {"revision": "2", "name": "menu", "kind": "menu", "text": "x"},
        "/flows/main/states/gone": {"revision": "2", "en:text": "x"},
    }
    for path, data in refused.items():
        answer = web.post(path, data)
        assert answer.status_code in (409, 422), f"{path}: {answer.status_code}"
        pages[f"POST {path}"] = answer.text
    for name, body in [("rows", b"name,organisation\nA,B\n"), ("latin-1", "é,ü".encode("latin-1"))]:
        upload = web.client.post(
            "/directory/import",
            data={"csrf": web.csrf()},
            files={"file": ("d.csv", body, "text/csv")},
        )
        assert upload.status_code == 422
        pages[f"import {name}"] = upload.text
    for name, html in pages.items():
        assert f'<html lang="{lang}">' in html, name
        if found := english_left(html, lang):
            left[name] = found
    assert left == {}, report(left)


@pytest.mark.parametrize("lang", LANGS)
def test_the_sign_in_page_and_its_refusal_speak_the_language_chosen(site: Site, lang: str) -> None:
    web = site.web
    web.sign_out()
    page = site.get(f"/signin?lang={lang}")
    assert f'<html lang="{lang}">' in page and english_left(page, lang) == []
    token = web.form_token(f"/signin?lang={lang}")
    wrong = web.client.post(
        "/signin",
        data={"username": "ada", "password": "not it", "csrf": token, "lang": lang},
        headers={"Accept-Language": "en"},
    )
    assert wrong.status_code == 401
    assert f'<html lang="{lang}">' in wrong.text and english_left(wrong.text, lang) == []


def test_durations_of_the_case_page_are_in_the_reader_s_language(site: Site) -> None:
    """The case page's durations come from an imported macro: it speaks the page's language."""
    web = site.speaking("fr")
    web.as_("amani")
    assert "en retard de 1 j 3 h" in site.get(f"/cases/{site.refs['late']}")
    site.speaking("st")
    assert "1 matsatsi 3 hr" in site.get(f"/cases/{site.refs['late']}")


def test_every_audit_action_the_services_record_has_its_words() -> None:
    """Each ``action="..."`` the code records is named in the trail (``audit_labels``)."""
    recorded: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for call in re.findall(r"action=(\([^)]*\)|\"[a-z_]+\")", text):
            recorded.update(re.findall(r"\"([a-z_]+)\"", call))
    recorded.add("demo_year_removed")  # recorded as bot.dev.demo_year.REMOVED
    assert recorded, "no audit action found: the pattern no longer matches the code"
    assert recorded - set(audit_labels.action) == set()


def test_every_template_imports_its_macros_with_context() -> None:
    """A macro imported without the page's context has no translations (it refuses to render,
    ``admin.render.NoLanguage``): every import says ``with context``."""
    imports = re.compile(r"{%-?\s*(?:import|from)\s[^%]*%}")
    for template in TEMPLATES.glob("*.html"):
        for found in imports.findall(template.read_text(encoding="utf-8")):
            assert "with context" in found, f"{template.name}: {found}"


@pytest.mark.parametrize("lang", ("fr", "ln", "st"))
def test_every_plural_has_all_its_forms(lang: str) -> None:
    """A plural with a form left empty would show English for some counts (``hotline i18n
    check`` looks at singular entries only)."""
    catalog = read_catalog(po_path(ROOT / "locales", lang, DOMAIN), lang)
    for message in catalog:
        if message.id and isinstance(message.id, tuple):
            assert isinstance(message.string, tuple), message.id
            assert len(message.string) == catalog.num_plurals, message.id
            assert all(message.string), f"{lang}: {message.id[0]!r} has an empty form"


def test_the_check_finds_english_where_a_translation_exists() -> None:
    page = '<html lang="fr"><p>Nobody holds this case.</p><button>Save</button></html>'
    assert english_left(page, "fr") == ["Nobody holds this case.", "Save"]
    marked = '<html lang="fr"><p lang="en">Nobody holds this case.</p><b translate="no">tip</b>'
    assert english_left(marked + "<p>Maison</p></html>", "fr") == []


def test_a_macro_imported_without_context_refuses_rather_than_speak_english() -> None:
    pages = Pages(ROOT / "locales")
    pages.env.loader = ChoiceLoader([DictLoader(TEMPLATES_BY_TEST), FileSystemLoader(TEMPLATES)])
    with pytest.raises(NoLanguage):
        pages.render("without.html", {}, "fr")
    assert pages.render("with.html", {}, "fr") == "1 j 2 h"


def test_render_keeps_the_language_it_is_given_and_no_other() -> None:
    pages = Pages(ROOT / "locales")
    with pytest.raises(ValueError, match="lang"):
        pages.render("error.html", {"lang": "fr", "status": 404, "message": "x"}, "en")
    shown = pages.render("error.html", {"status": 404, "message": "There is nothing here."}, "st")
    assert '<html lang="st">' in shown and "There is nothing here." not in shown
