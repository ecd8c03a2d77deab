"""Migrant ambassadors on Telegram: invites, the ambassador report, /reports, /services.

The real app with the Bot API mocked by respx (``telegram_fake``), the shipped ambassador flow
and areas data next to the fake's test main flow, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import respx
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.cases import ambassadors
from bot.core.privacy import pseudonym
from bot.core.settings import ROOT
from bot.i18n import ui
from bot.i18n.translate import Translate
from bot.models import Case, Service
from bot.models.ambassador import Ambassador, Invite
from tests.channels.telegram.fake import (
    MENU,
    OTHER,
    PSEUDONYM_KEY,
    USER,
    TelegramHotline,
    assert_no_telegram_ids,
    assert_no_token,
    starter,
    translate,
)
from tests.conftest import database_text

KIKWIT = {"latitude": -5.0412, "longitude": 18.8163}
"""A point in Kikwit: its digits must never be stored or logged."""
SECRET_DIGITS = ("5.0412", "18.8163")
NOWHERE = {"latitude": 48.8566, "longitude": 2.3522}
AMBASSADOR_MENU = "Ambassador menu. What would you like to do?"
WHAT = "What is happening?"
WHERE = "Where is it happening?"
LOCATION = (
    "Send the location: tap the paperclip, then Location. We use it only to find the area, "
    "then delete it."
)
SENT = (
    "Thank you. Your ambassador report is saved. Reference: {reference}. "
    "Send /reports to see where it stands."
)


@pytest.fixture
def hotline(
    tmp_path: Path, router: respx.MockRouter, database_url: str
) -> Iterator[TelegramHotline]:
    starts = starter(tmp_path, router, database_url, ambassador=True)
    start = next(starts)
    try:
        yield start()
    finally:
        next(starts, None)


@pytest.fixture
def tr(hotline: TelegramHotline) -> Translate:
    return translate(ambassador=True)


def contact(user: int = USER) -> str:
    return pseudonym(PSEUDONYM_KEY, "telegram", str(user))


def invite(engine: Engine, area: str | None = "cd-kwilu-kikwit") -> str:
    from bot.content.files import read_areas

    tree = read_areas(ROOT / "flows" / "data" / "areas.yaml")
    [issued] = ambassadors.issue(engine, PSEUDONYM_KEY, tree=tree, area=area)
    return issued.code


def texts(hotline: TelegramHotline, user: int = USER) -> list[str]:
    return [m.text for m in hotline.api.visible(user) if m.from_bot]


def labels(hotline: TelegramHotline, user: int = USER) -> list[str]:
    return [label for label, _ in hotline.api.keyboard(user).buttons]


def register(hotline: TelegramHotline, engine: Engine, lang: str = "en", user: int = USER) -> None:
    hotline.send(f"/start {invite(engine)}", language_code=lang, user=user)


def share(hotline: TelegramHotline, where: dict[str, float], lang: str = "en") -> None:
    response = hotline.post(hotline.message(None, language_code=lang, location=where))
    assert response.status_code == 200


# --- registration ---------------------------------------------------------------------------


def test_an_unused_code_registers_and_a_used_one_is_refused(
    hotline: TelegramHotline, engine: Engine, tr: Translate, caplog: pytest.LogCaptureFixture
) -> None:
    code = invite(engine)
    hotline.send(f"/start {code}", language_code="fr")
    shown = texts(hotline)
    assert shown[-2] == tr("fr", ui.AMBASSADOR_WELCOME)
    assert shown[-1] == tr("fr", AMBASSADOR_MENU)
    assert labels(hotline)[:3] == [
        tr("fr", "New report"),
        tr("fr", "My reports"),
        tr("fr", "Services near you"),
    ]
    with Session(engine) as db:
        [registered] = db.exec(select(Ambassador)).all()
        [used] = db.exec(select(Invite)).all()
    assert registered.contact == contact() and registered.area == "cd-kwilu-kikwit"
    assert registered.active and used.used_at is not None

    hotline.send(f"/start {code}", user=OTHER)
    other = texts(hotline, OTHER)
    assert other[-2] == tr("en", ui.INVITE_REFUSED)
    assert other[-1] == MENU, "then the normal menu"
    with Session(engine) as db:
        assert len(db.exec(select(Ambassador)).all()) == 1
    stored = database_text(engine)
    assert code not in stored and code not in caplog.text
    assert_no_telegram_ids(stored, caplog.text)
    assert_no_token(caplog.text)


@pytest.mark.parametrize("payload", ["ABCDEFGHJK", "abcd-efgh-jk"])
def test_an_unknown_code_is_refused_and_nothing_is_stored(
    hotline: TelegramHotline, engine: Engine, tr: Translate, payload: str
) -> None:
    hotline.send(f"/start {payload}", language_code="st")
    assert texts(hotline)[-2:] == [tr("st", ui.INVITE_REFUSED), tr("st", MENU)]
    with Session(engine) as db:
        assert db.exec(select(Ambassador)).all() == []


def test_a_plain_start_opens_the_ambassador_menu_only_for_ambassadors(
    hotline: TelegramHotline, engine: Engine
) -> None:
    register(hotline, engine)
    hotline.send("/start")
    assert hotline.api.last().text == AMBASSADOR_MENU
    hotline.send("/start", user=OTHER)
    assert hotline.api.last(OTHER).text == MENU


def test_someone_not_registered_cannot_start_the_ambassador_report(
    hotline: TelegramHotline, engine: Engine, tr: Translate
) -> None:
    hotline.send("/report", language_code="fr", user=OTHER)
    assert texts(hotline, OTHER)[-2:] == [tr("fr", ui.AMBASSADORS_ONLY), tr("fr", MENU)]
    hotline.send("/reports", user=OTHER)
    assert hotline.api.last(OTHER).text == tr("fr", ui.AMBASSADORS_ONLY)
    hotline.send("/services Kikwit", user=OTHER)
    assert hotline.api.last(OTHER).text == tr("fr", ui.AMBASSADORS_ONLY)


# --- the ambassador report --------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "st"])
def test_a_whole_report_by_taps_with_a_shared_location_becomes_a_case(
    hotline: TelegramHotline,
    engine: Engine,
    tr: Translate,
    caplog: pytest.LogCaptureFixture,
    lang: str,
) -> None:
    register(hotline, engine, lang)
    hotline.tap(tr(lang, "New report"))
    assert hotline.api.last().text == tr(lang, WHAT)
    hotline.tap(tr(lang, "Child labour"))
    assert hotline.api.last().text == tr(lang, WHERE)
    hotline.tap(tr(lang, "Share my location"))
    assert hotline.api.last().text == tr(lang, LOCATION)
    share(hotline, KIKWIT, lang)
    shown = texts(hotline)
    assert shown[-2] == tr(lang, ui.LOCATION_PLACED).format(area="Kikwit (ville)")
    assert shown[-1] == tr(lang, "How many people are affected?")
    hotline.tap(tr(lang, "2 to 5"))
    hotline.tap(tr(lang, ui.YES))  # children
    hotline.tap(tr(lang, ui.NO))  # danger now
    assert hotline.api.last().text == tr(lang, "What help do they need most?")
    hotline.tap(tr(lang, "Shelter"))
    hotline.tap(tr(lang, ui.NO))  # no description
    hotline.tap(tr(lang, "Send"))
    with Session(engine) as db:
        [case] = db.exec(select(Case)).all()
    assert hotline.api.last().text == tr(lang, SENT).format(reference=case.reference)
    assert (case.kind, case.channel, case.lang) == ("ambassador_report", "telegram", lang)
    assert (case.area, case.exploitation_type, case.people_affected) == (
        "cd-kwilu-kikwit",
        "child_labour",
        2,
    )
    assert case.minor is True and case.priority == "P2"
    assert case.contact == contact()
    assert case.answers is not None
    answers = json.loads(hotline.app.state.cipher.decrypt(case.answers, "case.answers"))
    assert answers["help_needed"] == "shelter"
    assert answers["area"] == "cd-kwilu-kikwit"
    stored = database_text(engine)
    for digits in SECRET_DIGITS:
        assert digits not in stored, "coordinates were stored"
        assert digits not in caplog.text, "coordinates were logged"
    assert_no_telegram_ids(stored, caplog.text)
    assert_no_token(caplog.text)


def test_danger_now_is_p1_and_the_list_works_too(
    hotline: TelegramHotline, engine: Engine, tr: Translate
) -> None:
    register(hotline, engine)
    hotline.send("/report")
    assert hotline.api.last().text == WHAT
    hotline.tap("Forced work")
    hotline.tap("Choose from the list")
    hotline.tap("Lesotho")
    hotline.tap("Maseru")
    hotline.tap("One person")
    hotline.tap(ui.NO)
    hotline.tap(ui.YES)
    hotline.tap("Legal help")
    hotline.tap(ui.YES)
    hotline.send("Three men kept at a farm")
    hotline.tap("Send")
    with Session(engine) as db:
        [case] = db.exec(select(Case)).all()
    assert (case.area, case.priority, case.minor) == ("ls-maseru", "P1", False)
    assert case.narrative is not None and "farm" not in case.narrative


def test_a_location_too_far_from_any_area_is_not_placed(
    hotline: TelegramHotline, engine: Engine, tr: Translate, caplog: pytest.LogCaptureFixture
) -> None:
    register(hotline, engine)
    hotline.tap("New report")
    hotline.tap("Forced work")
    hotline.tap("Share my location")
    share(hotline, NOWHERE)
    shown = texts(hotline)
    assert shown[-2] == ui.LOCATION_NOT_PLACED
    assert shown[-1] == WHERE, "back to choose from the list"
    assert "48.8566" not in caplog.text and "2.3522" not in caplog.text


def test_a_location_anywhere_else_is_refused_like_other_media(
    hotline: TelegramHotline, engine: Engine
) -> None:
    register(hotline, engine)
    share(hotline, KIKWIT)
    assert hotline.api.last().text == ui.MEDIA_REFUSED
    assert hotline.api.keyboard().text == AMBASSADOR_MENU


def test_a_location_message_is_deleted_by_the_quick_exit(
    hotline: TelegramHotline, engine: Engine
) -> None:
    register(hotline, engine)
    hotline.tap("New report")
    hotline.tap("Forced work")
    hotline.tap("Share my location")
    update = hotline.message(None, location=KIKWIT)
    message_id = update["message"]["message_id"]
    assert hotline.post(update).status_code == 200
    hotline.send("/exit")
    assert message_id in hotline.api.deleted[USER]


def test_a_typed_place_answers_the_location_question(
    hotline: TelegramHotline, engine: Engine
) -> None:
    register(hotline, engine)
    hotline.tap("New report")
    hotline.tap("Forced work")
    hotline.tap("Share my location")
    hotline.send("somewhere unknown")
    assert hotline.api.last().text.startswith(ui.HINT_LOCATION)
    hotline.send("gungu")
    assert hotline.api.last().text == "How many people are affected?"


# --- /reports and /services -------------------------------------------------------------------


def test_reports_lists_the_ambassador_s_own_reports_with_a_neutral_status(
    hotline: TelegramHotline, engine: Engine, tr: Translate
) -> None:
    register(hotline, engine, "fr")
    hotline.send("/reports")
    assert hotline.api.last().text == tr("fr", ui.REPORTS_NONE)
    hotline.send("/report")
    for label in ("Forced begging", "Choose from the list", "DR Congo", "Kwilu"):
        hotline.tap(tr("fr", label))
    for label in ("Gungu", "Not sure", ui.NO, ui.NO, "Police", ui.NO, "Send"):
        hotline.tap(tr("fr", label))
    with Session(engine, expire_on_commit=False) as db:
        [case] = db.exec(select(Case)).all()
        case.status = "referred"
        db.add(case)
        db.commit()
    hotline.send("/reports")
    lines = hotline.api.last().text.splitlines()
    assert lines[0] == tr("fr", ui.REPORTS_TITLE)
    status = tr("fr", ui.STATUS_PARTNER).format(reference=case.reference)
    assert lines[1] == f"{case.created_at:%Y-%m-%d} · {status}"
    assert len(lines) == 2
    assert "gungu" not in hotline.api.last().text.lower()


def seed_services(engine: Engine) -> None:
    with Session(engine) as db:
        for name, kind, areas, status in [
            ("Kikwit safe house", "shelter", "cd-kwilu-kikwit", "active"),
            ("Kwilu legal clinic", "legal", "cd-kwilu", "active"),
            ("Closed clinic", "medical", "cd-kwilu-kikwit", "closed"),
            ("Maseru centre", "psychosocial", "ls-maseru", "active"),
        ]:
            db.add(
                Service(
                    name=name,
                    organisation="Test NGO",
                    service_type=kind,
                    areas=areas,
                    phones="+243 000 000 111",
                    hours="Mon-Fri 8-17",
                    status=status,
                )
            )
        db.commit()


def test_services_for_an_area_by_name_or_code_and_the_areas_above_it(
    hotline: TelegramHotline, engine: Engine, tr: Translate
) -> None:
    seed_services(engine)
    register(hotline, engine, "fr")
    for ask in ("/services KIKWIT", "/services cd-kwilu-kikwit", "/services"):
        hotline.send(ask)
        text = hotline.api.last().text
        assert text.startswith(tr("fr", ui.SERVICES_TITLE).format(area="Kikwit (ville)"))
        assert "Kikwit safe house (Test NGO)" in text
        assert "Kwilu legal clinic (Test NGO)" in text, "a service for the province above"
        assert tr("fr", "Shelter") in text and tr("fr", "Legal help") in text
        assert tr("fr", ui.SERVICE_PHONES).format(phones="+243 000 000 111") in text
        assert tr("fr", ui.SERVICE_HOURS).format(hours="Mon-Fri 8-17") in text
        assert "Closed clinic" not in text and "Maseru" not in text
    hotline.send("/services Maseru")
    assert "Maseru centre" in hotline.api.last().text
    hotline.send("/services Kinshasa")
    none = tr("fr", ui.SERVICES_NONE).format(area="Kinshasa")
    assert hotline.api.last().text == none.replace("{hotline_number}", "0800 000 000")
    hotline.send("/services Atlantis")
    assert hotline.api.last().text == tr("fr", ui.SERVICES_UNKNOWN_AREA)
