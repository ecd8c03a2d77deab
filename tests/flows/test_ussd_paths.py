"""Every flow from start to finish over the USSD endpoint, in each language, into the queue.

The app runs as Africa's Talking reaches it (``create_app``, form posts with ``text`` joined by
``*``) on both databases; the tip path also on both session stores. What a person sees must
fit a basic phone; what they reported must be a case in the on-call queue with the reference
they were shown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.cases.reference import PATTERN
from bot.cases.status import Status
from bot.core.privacy import Cipher
from bot.i18n import ui
from bot.i18n.gsm7 import fold
from bot.models import Case
from tests.channels.ussd.test_routes import (
    HOTLINE,
    LANG_KEYS,
    PHONE,
    Line,
    make_settings,
    new_session,
    running,
)
from tests.conftest import assert_no_phone_numbers, database_text, reachable_redis

REFERENCE = re.compile(r"\b[A-Z0-9]{4}-[0-9]{2}\b")

# Words each language's screens must show at a step, so a test fails on a screen in English.
TIP_DONE = {"en": "Thank you", "fr": "Merci", "ln": "Matondi", "st": "Kea leboha"}


@pytest.fixture(params=["memory", "redis"])
def store_url(request: pytest.FixtureRequest) -> str | None:
    return reachable_redis() if request.param == "redis" else None


@pytest.fixture
def line(tmp_path: Path, database_url: str, store_url: str | None) -> Iterator[Line]:
    """The app on each database x each session store."""
    with running(make_settings(tmp_path, database_url, redis_url=store_url)) as started:
        yield started


@pytest.fixture
def memory_line(tmp_path: Path, database_url: str) -> Iterator[Line]:
    """The app on each database, sessions in process."""
    with running(make_settings(tmp_path, database_url)) as started:
        yield started


def walk(line: Line, inputs: list[str]) -> list[str]:
    """Dial and answer screen by screen as AT sends it; every screen a phone can show."""
    sid = new_session()
    screens = [line.screen(sid, "")]
    for i in range(1, len(inputs) + 1):
        screens.append(line.screen(sid, "*".join(inputs[:i])))
    return screens


def cases(line: Line) -> list[Case]:
    engine: Engine = line.app.state.engine
    with Session(engine) as session:
        return list(session.exec(select(Case)).all())


def said(line: Line, lang: str, message: str) -> str:
    """A UI message as a phone shows it in a language."""
    return fold(line.app.state.content.tr(lang, message), lang)


def reference_in(screen: str) -> str:
    found = REFERENCE.search(screen)
    assert found is not None, screen
    assert PATTERN.match(found.group()), found.group()
    return found.group()


TIP = [
    "1",  # Report something
    "1",  # Forced work
    "1",  # DR Congo
    "13",  # Kwilu (on the third page of provinces: the key works on any page)
    "1",  # Kikwit
    "2",  # 2 to 5 people
    "1",  # children among them: yes
    "2",  # danger now: no
    "1",  # add a description: yes
    "Men carry heavy bags at night near the market",
    "1",  # may we contact you: yes
    "3",  # evening
    "2",  # by SMS
    "1",  # send
]


@pytest.mark.parametrize("lang", list(LANG_KEYS))
def test_a_whole_tip_in_each_language_becomes_a_case_with_the_reference_shown(
    line: Line, lang: str
) -> None:
    screens = walk(line, [LANG_KEYS[lang], *TIP])
    end = screens[-1]
    assert end.startswith("END ") and all(s.startswith("CON ") for s in screens[:-1])
    assert TIP_DONE[lang] in end
    reference = reference_in(end)

    (case,) = cases(line)
    assert case.reference == reference
    assert (case.kind, case.channel, case.lang) == ("tip", "ussd", lang)
    assert (case.area, case.exploitation_type, case.people_affected) == (
        "cd-kwilu-kikwit",
        "forced_labour",
        2,
    )
    assert case.minor is True
    assert (case.priority, case.rule) == ("P2", "tip: children among the people affected")
    assert case.status == Status.NEW
    assert case.consent_contact and case.contact_phone is not None
    cipher: Cipher = line.app.state.cipher
    assert cipher.decrypt(case.contact_phone, "case.contact_phone") == PHONE
    assert case.narrative is not None
    narrative = cipher.decrypt(case.narrative, "case.narrative")
    assert narrative == "Men carry heavy bags at night near the market"
    assert case.safe_time is not None
    assert case.answers is not None
    answers = json.loads(cipher.decrypt(case.answers, "case.answers"))
    assert answers["contact_method"] == "sms" and answers["danger"] == "no"
    stored = database_text(line.app.state.engine)
    assert "heavy bags" not in stored, "the description is encrypted at rest"
    assert_no_phone_numbers(stored)


def test_a_tip_with_someone_in_danger_now_is_p1(memory_line: Line) -> None:
    tip = [*TIP]
    tip[7] = "1"  # danger now: yes
    walk(memory_line, ["1", *tip])
    (case,) = cases(memory_line)
    assert (case.priority, case.rule) == ("P1", "tip: someone in danger now")


def test_a_cancelled_tip_saves_nothing(memory_line: Line) -> None:
    screens = walk(memory_line, ["1", *TIP[:-1], "2"])
    assert screens[-1].startswith("END ") and "nothing was saved" in screens[-1]
    assert cases(memory_line) == []


def test_the_tip_never_asks_for_a_name(memory_line: Line) -> None:
    screens = walk(memory_line, ["1", *TIP])
    asked = [s for s in screens if "name" in s.lower()]
    says = ("do not need to give your name", "need not give your name")
    assert all(any(words in s for words in says) for s in asked), asked


def test_the_area_menus_page_with_98_and_back_with_00(memory_line: Line) -> None:
    screens = walk(memory_line, ["1", "1", "1", "1", "98", "00"])
    first, second, back = screens[-3:]
    assert first.startswith("CON Which province?") and "98 More" in first
    assert "Which province?" not in second and "00 Back" in second
    assert back == first


SCREENING_P1 = ["2", "1", "1", "2", "2", "2"]  # safe yes; danger yes; locked no; minor no; no call


@pytest.mark.parametrize("lang", list(LANG_KEYS))
def test_a_screening_in_danger_skips_to_help_and_is_p1_in_each_language(
    memory_line: Line, lang: str
) -> None:
    screens = walk(memory_line, [LANG_KEYS[lang], *SCREENING_P1])
    end = screens[-1]
    assert end.startswith("END ") and HOTLINE in end
    reference = reference_in(end)
    (case,) = cases(memory_line)
    assert (case.reference, case.kind, case.priority) == (reference, "screening", "P1")
    assert case.rule == "P1: U1 in danger now"
    assert case.minor is False and not case.consent_contact and case.contact_phone is None


def test_a_screening_with_indicators_stores_answers_and_the_rule_fired(memory_line: Line) -> None:
    # safe; U1-U3 no; Q1 yes (deception), Q2 skip, Q3 yes (coercion), Q4-Q10 no; no call back
    answers = ["1", "2", "2", "2", "1", "3", "1", *(["2"] * 7), "2"]
    screens = walk(memory_line, ["1", "2", *answers])
    assert screens[-1].startswith("END ")
    (case,) = cases(memory_line)
    assert (case.priority, case.rule) == ("P2", "P2: deception or involuntariness with coercion")
    cipher: Cipher = memory_line.app.state.cipher
    assert case.answers is not None
    stored = json.loads(cipher.decrypt(case.answers, "case.answers"))
    assert stored["Q1"] == "yes" and stored["Q2"] == "skip" and stored["Q10"] == "no"


def test_not_safe_now_ends_and_stores_nothing(memory_line: Line) -> None:
    line = memory_line
    sid = new_session()
    for text in ["", "1", "1*2", "1*2*2"]:
        end = line.screen(sid, text)
    assert end.startswith("END ") and "Nothing was saved" in end
    assert cases(line) == []
    kept = line.stored(sid) or {}
    assert "answers" not in kept and "inputs" not in kept, kept
    assert "S0" not in json.dumps(kept)


def test_the_result_never_says_victim(memory_line: Line) -> None:
    content = memory_line.app.state.content
    definition = content.registry.get("screening").loaded.definition
    for name in ("result_p1", "result_p2", "result_p3", "result_p4"):
        for lang in LANG_KEYS:
            text = content.tr(lang, definition.states[name].text).lower()
            assert not any(w in text for w in ("victim", "victime", "mohlaseluoa")), (name, lang)


@pytest.mark.parametrize("lang", list(LANG_KEYS))
def test_a_call_back_request_in_each_language(memory_line: Line, lang: str) -> None:
    screens = walk(memory_line, [LANG_KEYS[lang], "4", "1", "1", "1"])
    assert HOTLINE in screens[2]
    reference = reference_in(screens[-1])
    (case,) = cases(memory_line)
    assert (case.reference, case.kind, case.priority) == (reference, "callback_request", "P2")
    assert case.consent_contact and case.contact_phone is not None


@pytest.mark.parametrize("lang", list(LANG_KEYS))
def test_following_a_report_shows_its_status_in_neutral_words(memory_line: Line, lang: str) -> None:
    line = memory_line
    reference = reference_in(walk(line, [LANG_KEYS[lang], *TIP])[-1])
    typed = reference.lower().replace("-", " ")
    # The same phone again: the hotline remembers the language and opens at the main menu.
    first, _, end = walk(line, ["5", typed])
    assert "\n5 " in first and "Choose your language" not in first
    assert end == "END " + said(line, lang, ui.STATUS_RECEIVED).format(reference=reference)

    with Session(line.app.state.engine) as session:
        case = session.exec(select(Case)).one()
        case.status = Status.REFERRED
        session.add(case)
        session.commit()
    end = walk(line, ["5", reference])[-1]
    assert end == "END " + said(line, lang, ui.STATUS_PARTNER).format(reference=reference)
    assert "Kwilu" not in end and "Kikwit" not in end


def test_following_an_unknown_reference_says_so(memory_line: Line) -> None:
    end = walk(memory_line, ["1", "5", "KAAA-33"])[-1]
    assert end == "END " + said(memory_line, "en", ui.STATUS_UNKNOWN).format(reference="KAAA-33")


def test_something_that_is_not_a_reference_is_asked_again_with_an_example(
    memory_line: Line,
) -> None:
    screens = walk(memory_line, ["2", "5", "bonjour"])
    assert screens[-1].startswith("CON " + said(memory_line, "fr", ui.HINT_REFERENCE))
    assert cases(memory_line) == []


@pytest.mark.parametrize("lang", list(LANG_KEYS))
def test_learning_the_signs_in_each_language(memory_line: Line, lang: str) -> None:
    line = memory_line
    sid = new_session()
    inputs: list[str] = []

    def answer(raw: str) -> str:
        inputs.append(raw)
        return line.screen(sid, "*".join(inputs)) if raw != "" else line.screen(sid, "")

    answer("")
    inputs.clear()
    answer(LANG_KEYS[lang])
    topics = answer("3")
    assert topics.startswith("CON ") and "\n5 " in topics
    page = answer("1")
    pages = [page]
    while "\n98 " in page and len(pages) < 5:  # the long text pages, then its option
        page = answer("98")
        pages.append(page)
    assert len(pages) >= 2, "the long text pages"
    assert "\n1 " in pages[-1] and all(p.startswith("CON ") for p in pages)
    assert answer("1") == topics
    assert HOTLINE in answer("5")
