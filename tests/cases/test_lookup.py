"""Following a report: each status in neutral words, in the person's language; nothing else."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.cases.lookup import NEUTRAL, status_text
from bot.cases.status import Status
from bot.i18n import ui
from bot.i18n.gsm7 import fold, sms_parts
from bot.models import Case
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
