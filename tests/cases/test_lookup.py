"""Following a report: each status in neutral words, in the person's language; nothing else."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.cases.intake import CasesSink, Limits
from bot.cases.lookup import NEUTRAL, LookupLimit, status_text
from bot.cases.status import Status
from bot.engine.state import Event
from bot.i18n import ui
from bot.i18n.gsm7 import fits_ussd, fold, sms_parts
from bot.models import Case
from bot.outbox.notify import NullNotifier
from bot.sessions import MemorySessionStore
from tests.cases.helpers import CATALOGS, CIPHER, T0

LANGS = ("en", "fr", "ln", "st")


def add_case(engine: Engine, status: Status, reference: str = "KAAA-33") -> None:
    with Session(engine) as session:
        session.add(
            Case(
                reference=reference,
                event_key=f"ussd:{reference}",
                kind="tip",
                channel="ussd",
                lang="fr",
                area="cd-kwilu-kikwit",
                answers=CIPHER.encrypt("{}", "case.answers"),
                priority="P2",
                contact="c",
                status=status,
                due_at=T0,
                created_at=T0,
                updated_at=T0,
            )
        )
        session.commit()


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (Status.NEW, ui.STATUS_RECEIVED),
        (Status.TRIAGED, ui.STATUS_LOOKED_AT),
        (Status.ACTIVE, ui.STATUS_LOOKED_AT),
        (Status.REFERRED, ui.STATUS_PARTNER),
        (Status.FOLLOW_UP, ui.STATUS_PARTNER),
        (Status.CLOSED, ui.STATUS_CLOSED),
    ],
)
def test_each_status_reads_neutrally(engine: Engine, status: Status, message: str) -> None:
    add_case(engine, status)
    for lang in LANGS:
        expected = CATALOGS.gettext(lang, message).format(reference="KAAA-33")
        assert status_text(engine, CATALOGS.gettext, "KAAA-33", lang) == expected


def test_an_unknown_reference_says_so(engine: Engine) -> None:
    text = status_text(engine, CATALOGS.gettext, "KAAA-34", "fr")
    assert text == CATALOGS.gettext("fr", ui.STATUS_UNKNOWN).format(reference="KAAA-34")


def test_every_status_has_words_and_reveals_nothing_of_the_case(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    assert set(NEUTRAL) == set(Status)
    add_case(engine, Status.ACTIVE)
    caplog.set_level(logging.INFO)
    for lang in LANGS:
        text = status_text(engine, CATALOGS.gettext, "KAAA-33", lang)
        assert "kwilu" not in text.lower() and "P2" not in text
    assert "KAAA-33" not in caplog.text, "lookups are logged without the reference"


@pytest.mark.parametrize("lang", LANGS)
def test_status_messages_fit_one_screen_and_one_sms(lang: str) -> None:
    for message in [*set(NEUTRAL.values()), ui.STATUS_UNKNOWN]:
        text = fold(CATALOGS.gettext(lang, message).format(reference="WWWW-99"), lang)
        assert len(text) <= 150, text  # the flow's end screen shows it alone (validate sample)
        assert sms_parts(text) == 1


# --- guessing references from one number (issue 11, item 15) ---------------------------------


def lookup_event(reference: str) -> Event:
    return Event(
        "status_requested",
        {"event_id": f"s:{reference}", "lang": "en", "answers": {"reference": reference}},
    )


async def test_3000_guesses_from_one_number_check_at_most_the_limit(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(6):
        add_case(engine, Status.NEW, reference=f"KAA{n}-33")
    checked: list[str] = []

    def counting(engine: Engine, tr: Any, reference: str, lang: str) -> str:
        checked.append(reference)
        return status_text(engine, tr, reference, lang)

    monkeypatch.setattr("bot.cases.intake.status_text", counting)
    sink = CasesSink(
        engine,
        CIPHER,
        CATALOGS.gettext,
        lambda: NullNotifier(),
        clock=lambda: T0,
        limits=Limits(lookups_per_hour=10),
    )
    answers = []
    for n in range(3000):
        guess = f"KAA{n % 10}-33"  # every tenth guess is a real reference
        values = await sink.handle([lookup_event(guess)], channel="ussd", contact="ph_guesser")
        answers.append(values["status"])
    assert len(checked) == 10
    later = CATALOGS.gettext("en", ui.STATUS_LATER)
    assert answers[10:] == [later] * 2990, "past the limit: the same neutral answer, unchecked"
    found = [a for a in answers if "received" in a]
    assert len(found) <= 6
    # Someone else is not held back.
    values = await sink.handle([lookup_event("KAA1-33")], channel="ussd", contact="ph_other")
    assert values["status"] == CATALOGS.gettext("en", ui.STATUS_RECEIVED).format(
        reference="KAA1-33"
    )


async def test_the_limit_is_per_hour_and_shared_through_the_store(engine: Engine) -> None:
    now = [T0]
    store = MemorySessionStore(clock=lambda: now[0].timestamp())
    limit = LookupLimit(store, 2, clock=lambda: now[0])
    assert [await limit.allow("ph_a") for _ in range(3)] == [True, True, False]
    again = LookupLimit(store, 2, clock=lambda: now[0])  # another process on the same store
    assert await again.allow("ph_a") is False
    now[0] = T0 + timedelta(hours=1)
    assert await again.allow("ph_a") is True
    assert "ph_a" not in limit.key("ph_a")


@pytest.mark.parametrize("lang", LANGS)
def test_the_later_answer_fits_one_screen(lang: str) -> None:
    text = CATALOGS.gettext(lang, ui.STATUS_LATER).format(hotline_number="0800 000 000 0000")
    assert fits_ussd(fold(text, lang)), text
