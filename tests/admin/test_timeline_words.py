"""Timeline details in the reader's language: each format the case services write is said in
French (a sample in Lingala and Sesotho); names stay as they are, unknown details pass as None
(the page shows them as stored, marked English)."""

from __future__ import annotations

from typing import Any

import pytest
from markupsafe import Markup
from sqlmodel import Session

from admin.render import load_translations
from admin.routes.timeline_words import Say, SayMany, words
from bot.models import CaseEvent
from tests.admin.conftest import Web
from tests.api import load, new_case
from tests.conftest import ROOT


def speakers(lang: str) -> tuple[Say, SayMany]:
    """gettext and ngettext as a page in ``lang`` calls them (values escaped)."""
    translations = load_translations(ROOT / "locales", lang)

    def say(msgid: str, **values: Any) -> str:
        text = Markup(translations.gettext(msgid))  # noqa: S704 - our own catalog's text
        return text % values if values else text

    def say_n(singular: str, plural: str, n: int, /, **values: Any) -> str:
        text = Markup(translations.ngettext(singular, plural, n))  # noqa: S704 - our catalog
        return text % {"num": n, **values}

    return say, say_n


FRENCH = [
    ("created", "tip via ussd", "signalement par USSD"),
    ("ack", "again, by SMS", "de nouveau, par SMS"),
    ("ack", "by SMS", "par SMS"),
    ("claim", "from demo.amani, by SMS", "repris à demo.amani, par SMS"),
    ("status", "resolved", None),
    ("status", "referral 12", "orientation 12"),
    ("note", "note 7", "note 7"),
    (
        "consent",
        "contact no, refer yes, number deleted after 2026-12-09 10:00 UTC",
        "Être recontacté(e) : non, Orientation vers un service : oui, "
        "numéro effacé après le 2026-12-09 10:00 UTC",
    ),
    ("consent", "police yes (unchanged)", None),
    ("consent", "contact yes, number kept (withdrawal undone)", None),
    ("consent", "contact no, number deleted", None),
    ("consent", "contact yes, no number on file", None),
    (
        "alert",
        "level 0 (new_p1) to demo.amani",
        "principal de garde (nouveau dossier P1) : demo.amani",
    ),
    (
        "alert",
        "level 1 (overdue) to nobody on call",
        "suppléant de garde (en retard) : personne de garde",
    ),
    (
        "alert",
        "level 1 not paged: the shift's 40 alerts are spent",
        "suppléant de garde non alerté : les alertes de cette permanence sont épuisées (40)",
    ),
    ("alert", "supervisor did not acknowledge", "le superviseur n'a pas pris en compte"),
    ("referral", "referral 12 to Shelter X (shelter): in_progress", None),
    ("referral", "referral 12 to Shelter X (shelter): in_progress, supervisor override", None),
    (
        "referral",
        "referral 12 to Shelter (Kikwit) X (medical): in_progress → done (successful), by SMS",
        "orientation 12 vers Shelter (Kikwit) X (médical) : en cours → terminée (réussie), par SMS",
    ),
    (
        "referral",
        "referral 12 to Shelter X: code sent by SMS",
        "orientation 12 vers Shelter X : code envoyé par SMS",
    ),
    ("message", "message sent to the person through the bot", None),
    ("retention", "anonymised after 730 days", "anonymisé après 730 jours"),
    ("retention", "contact removed after 30 days", "coordonnées effacées après 30 jours"),
    (
        "retention",
        "number removed 30 days after closing",
        "numéro effacé 30 jours après la clôture",
    ),
    ("retention", "number deleted: contact consent withdrawn, grace over", None),
]


@pytest.mark.parametrize(("kind", "detail", "expected"), FRENCH)
def test_every_known_format_is_said_in_french(kind: str, detail: str, expected: str | None) -> None:
    say, say_n = speakers("fr")
    said = words(kind, detail, say, say_n)
    assert said is not None and (said != detail or said == expected), detail
    if expected is not None:
        assert said == expected
    english = words(kind, detail, *speakers("en"))
    assert english is not None  # the English page words it too (from the msgids)


@pytest.mark.parametrize(
    ("lang", "kind", "detail", "expected"),
    [
        ("ln", "created", "tip via sms", None),
        ("ln", "alert", "level 0 (new_p1) to demo.amani", None),
        ("st", "ack", "again, by SMS", "hape, ka SMS"),
        ("st", "retention", "anonymised after 1 day", None),
    ],
)
def test_a_sample_in_lingala_and_sesotho(
    lang: str, kind: str, detail: str, expected: str | None
) -> None:
    said = words(kind, detail, *speakers(lang))
    assert said is not None and said != detail and said != words(kind, detail, *speakers("en"))
    assert expected is None or said == expected


@pytest.mark.parametrize(
    ("kind", "detail"),
    [
        ("created", "tip via pigeon"),  # a channel without words
        ("alert", "level 7 (new_p1) to demo.amani"),  # a level without words
        ("referral", "referral 12 to Shelter X (shelter): in_progress → lost"),
        ("referral", "referral 12 to a very long name cut short at 300 charac"),
        ("claim", "from demo.amani, by pigeon"),
        ("consent", "contact maybe"),
        ("status", "something else"),
        ("mystery", "whatever it says"),
        ("ack", ""),
    ],
)
def test_an_unknown_detail_is_left_as_it_is(kind: str, detail: str) -> None:
    assert words(kind, detail, *speakers("fr")) is None


def test_names_are_escaped_once() -> None:
    said = words("referral", "referral 3 to A & B <i>: code sent by SMS", *speakers("fr"))
    assert said == "orientation 3 vers A &amp; B &lt;i&gt; : code envoyé par SMS"


def test_the_case_page_says_the_timeline_in_french(web: Web) -> None:
    ref = new_case(web.engine)
    case = load(web.engine, ref)
    assert case.id is not None
    with Session(web.engine) as db:
        for detail in ("level 0 (new_p1) to demo.amani", "strange & new <detail>"):
            db.add(
                CaseEvent(
                    case_id=case.id, at=case.created_at, actor="system", kind="alert", detail=detail
                )
            )
        db.commit()
    web.as_("amani")  # reads French
    text = web.client.get(f"/cases/{ref}").text
    assert "<small>principal de garde (nouveau dossier P1) : demo.amani</small>" in text
    assert '<small lang="en">strange &amp; new &lt;detail&gt;</small>' in text
    assert " via ussd" not in text and " par USSD</small>" in text
