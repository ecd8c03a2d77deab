"""The shipped flows on Telegram, end to end through the webhook: a whole tip and a whole
self-screening by inline keyboard taps (and a typed description), in two languages each, on
SQLite and PostgreSQL.

Every update goes through the real app (``create_app``) on the shipped flows and catalogs, with
the Bot API mocked by respx (``telegram_fake.FakeTelegram``). Each screen must be the chosen
language's text in full orthography; each button's callback data must fit Telegram's 64 bytes;
the end screen shows a reference, and the case it names is in the database as the flow
described it, with no Telegram id stored or logged.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import respx
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.cases.reference import PATTERN
from bot.channels.telegram.render import CALLBACK_DATA_LIMIT
from bot.core.db import make_engine
from bot.core.privacy import pseudonym
from bot.core.settings import ROOT
from bot.i18n import ui
from bot.i18n.catalog import Catalogs
from bot.models import AuditEntry, Case, CaseEvent
from tests.api import headers, seed_team
from tests.channels.telegram.fake import (
    HOTLINE,
    LANGUAGE_MENU,
    OTHER,
    PSEUDONYM_KEY,
    USER,
    TelegramHotline,
    assert_no_telegram_ids,
    assert_no_token,
    starter,
)
from tests.channels.telegram.fake import SHIPPED_MENU as MENU
from tests.conftest import TEST_PHONES, assert_no_phone_numbers, database_text

CATALOGS = Catalogs.load(ROOT / "locales")
PHONE = TEST_PHONES[0]
LANGUAGE_BUTTONS = {"en": "English", "fr": "Francais", "ln": "Lingala", "st": "Sesotho"}
ORTHOGRAPHY = {"fr": "éèàç", "ln": "ɛɔ", "st": "š"}
"""Letters of each language GSM-7 folding would lose: some must show on Telegram."""
REFERENCE = re.compile(r"[A-Z0-9]{4}-[0-9]{2}")


def tr(lang: str, msgid: str) -> str:
    """A shipped text in a language, with the hotline number filled in."""
    text = CATALOGS.gettext(lang, msgid).replace("{hotline_number}", HOTLINE)
    return text.replace("{hotline_name}", "Helpline")


def _shipped(
    tmp_path: Path, router: respx.MockRouter, database_url: str | None
) -> Iterator[TelegramHotline]:
    starts = starter(tmp_path, router, database_url)
    start = next(starts)
    try:
        yield start(flows_dir=ROOT / "flows", locales_dir=ROOT / "locales")
    finally:
        next(starts, None)


@pytest.fixture
def hotline(
    tmp_path: Path, router: respx.MockRouter, database_url: str
) -> Iterator[TelegramHotline]:
    """The app on the shipped flows and catalogs, on SQLite and on PostgreSQL."""
    yield from _shipped(tmp_path, router, database_url)


@pytest.fixture
def sqlite_hotline(tmp_path: Path, router: respx.MockRouter) -> Iterator[TelegramHotline]:
    """The app on the shipped flows and catalogs, on a SQLite file."""
    yield from _shipped(tmp_path, router, None)


# --- walking a flow -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Tap:
    """Expect a screen (an English msgid), then tap a button (an English msgid)."""

    screen: str
    label: str
    translate: bool = True
    """False for labels shown as written (place names)."""


@dataclass(frozen=True)
class Type:
    """Expect a screen, then type a reply."""

    screen: str
    text: str


Step = Tap | Type


def check_keyboards(hotline: TelegramHotline) -> None:
    """Every keyboard sent or edited so far: callback data within Telegram's 64 bytes."""
    for method in ("sendMessage", "editMessageText"):
        for params in hotline.api.called(method):
            markup = json.loads(params.get("reply_markup") or "{}")
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    data = button["callback_data"].encode()
                    assert 0 < len(data) <= CALLBACK_DATA_LIMIT, button


def labels(hotline: TelegramHotline, user: int) -> list[str]:
    return [label for label, _ in hotline.api.keyboard(user).buttons]


def open_menu(hotline: TelegramHotline, lang: str, user: int) -> list[str]:
    """``/start`` from an app in no hotline language, then the language: the main menu."""
    hotline.send("/start", language_code=None, user=user)
    assert hotline.api.last(user).text == LANGUAGE_MENU
    hotline.tap(LANGUAGE_BUTTONS[lang], user=user)
    assert hotline.api.last(user).text == tr(lang, MENU)
    return [LANGUAGE_MENU, tr(lang, MENU)]


def walk(hotline: TelegramHotline, lang: str, user: int, steps: list[Step]) -> list[str]:
    """Each step's screen is the newest message, in the language; then its tap or reply.
    Returns every screen seen."""
    seen: list[str] = []
    for number, step in enumerate(steps):
        shown = hotline.api.last(user)
        assert shown.text == tr(lang, step.screen), f"step {number}: {step}"
        seen.append(shown.text)
        if isinstance(step, Tap):
            label = tr(lang, step.label) if step.translate else step.label
            assert label in labels(hotline, user), f"step {number}: {label!r} not shown"
            assert tr(lang, ui.EXIT) in labels(hotline, user), "Exit is on every screen"
            hotline.tap(label, user=user)
        else:
            assert labels(hotline, user) == [tr(lang, ui.BACK), tr(lang, ui.EXIT)]
            hotline.send(step.text, user=user)
        check_keyboards(hotline)
    return seen


def end_screen(hotline: TelegramHotline, lang: str, user: int, msgid: str) -> str:
    """The end screen: the translated text with a well-formed reference, no buttons; the
    reference."""
    end = hotline.api.last(user)
    found = REFERENCE.search(end.text)
    assert found is not None, end.text
    reference = found.group()
    assert PATTERN.match(reference), reference
    assert end.text == tr(lang, msgid).format(reference=reference)
    assert end.buttons == [], "the conversation ended"
    return reference


def stored_case(engine: Engine, reference: str) -> Case:
    with Session(engine) as db:
        [case] = db.exec(select(Case)).all()
    assert case.reference == reference
    return case


def assert_full_orthography(lang: str, screens: list[str]) -> None:
    letters = ORTHOGRAPHY.get(lang, "")
    if letters:
        assert any(c in screen for screen in screens for c in letters), (
            f"no {letters} anywhere: folded?"
        )


# --- a whole tip -----------------------------------------------------------------------------

WHERE = "Where is it happening? Choose the country:"
PEOPLE = "How many people are affected?"
CHILDREN = "Are there children (under 18) among them?"
DANGER = "Is someone in danger right now?"
DESCRIBE = "Do you want to add a short description?"
DESCRIPTION = (
    "Describe briefly what you saw (where, when, what). You do not need to give your name."
)
CONSENT = (
    "May the hotline contact you about this report? "
    "Say yes only if a call or message from us is safe for you."
)
SAFE_TIME = "When is it safe for us to contact you?"
METHOD = "How should we contact you?"
CONFIRM = "Send your report now?"
TIP_SENT = (
    "Thank you. Your report is saved. Reference: {reference}. Our team reads every report and "
    "alerts those who can help. Keep the reference to follow your report."
)


@dataclass(frozen=True)
class TipCase:
    lang: str
    user: int
    what: str
    where: list[Tap]
    people: str
    children: str
    danger: str
    description: str
    safe_time: str
    method: str
    area: str
    exploitation: str
    priority: str
    rule: str


TIPS = [
    TipCase(
        lang="fr",
        user=USER,
        what="Child labour",
        where=[
            Tap(WHERE, "DR Congo"),
            Tap("Which province?", "Kwilu", translate=False),
            Tap("Which territory or town?", "Kikwit (ville)", translate=False),
        ],
        people="2 to 5",
        children=ui.YES,
        danger=ui.NO,
        description="Des enfants portent des sacs très lourds à l'usine, même la nuit.",
        safe_time="Morning",
        method="A message here on Telegram",
        area="cd-kwilu-kikwit",
        exploitation="child_labour",
        priority="P2",
        rule="tip: children among the people affected",
    ),
    TipCase(
        lang="st",
        user=OTHER,
        what="Forced work",
        where=[Tap(WHERE, "Lesotho"), Tap("Which district?", "Maseru", translate=False)],
        people="One person",
        children=ui.NO,
        danger=ui.YES,
        description="Mosali o koaletsoe ka tlung, o sebetsa bosiu le motšehare.",
        safe_time="Evening",
        method="A message here on Telegram",
        area="ls-maseru",
        exploitation="forced_labour",
        priority="P1",
        rule="tip: someone in danger now",
    ),
]


@pytest.mark.parametrize("tip", TIPS, ids=[t.lang for t in TIPS])
def test_a_whole_tip_by_taps_becomes_a_case(
    hotline: TelegramHotline, engine: Engine, caplog: pytest.LogCaptureFixture, tip: TipCase
) -> None:
    lang, user = tip.lang, tip.user
    screens = open_menu(hotline, lang, user)
    steps: list[Step] = [
        Tap(MENU, "Report something"),
        Tap("What is happening?", tip.what),
        *tip.where,
        Tap(PEOPLE, tip.people),
        Tap(CHILDREN, ui.BACK),  # 00: back to the question before, then on again
        Tap(PEOPLE, tip.people),
        Tap(CHILDREN, tip.children),
        Tap(DANGER, tip.danger),
        Tap(DESCRIBE, ui.YES),
        Type(DESCRIPTION, tip.description),
        Tap(CONSENT, ui.YES),
        Tap(SAFE_TIME, tip.safe_time),
        Tap(METHOD, tip.method),
        Tap(CONFIRM, "Send"),
    ]
    screens += walk(hotline, lang, user, steps)
    reference = end_screen(hotline, lang, user, TIP_SENT)
    assert_full_orthography(lang, [*screens, hotline.api.last(user).text])
    if lang == "fr":
        assert tr("fr", WHERE) == "Où cela se passe-t-il ? Choisissez le pays :"
        assert tr("fr", WHERE) in screens, "French accents are kept"

    case = stored_case(engine, reference)
    assert (case.kind, case.channel, case.lang) == ("tip", "telegram", lang)
    assert (case.area, case.exploitation_type) == (tip.area, tip.exploitation)
    assert (case.priority, case.rule) == (tip.priority, tip.rule)
    assert case.minor is (tip.children == ui.YES)
    assert case.consent_contact is True
    assert case.contact == pseudonym(PSEUDONYM_KEY, "telegram", str(user))
    assert case.contact_phone is not None, "the chat, kept with consent, so the team can answer"
    kept = hotline.app.state.cipher.decrypt(case.contact_phone, "case.contact_phone")
    assert kept == f"telegram:{user}", "Telegram gives no phone number: the chat is kept"
    assert case.narrative is not None and case.safe_time is not None

    dump = database_text(engine)
    assert tip.description not in dump, "the description is stored encrypted"
    assert_no_telegram_ids(dump, caplog.text)
    assert_no_token(caplog.text)


# --- a whole self-screening ---------------------------------------------------------------------

S0 = (
    "We will ask some questions about your situation (about 3 minutes). "
    "Is it safe for you to answer now?"
)
QUESTIONS = [
    "Are you in danger right now?",
    "Are you locked in or guarded?",
    "Are you under 18?",
    "Was the work different from what you were promised?",
    "Can you stop this work if you want to?",
    "Did someone take your ID or passport?",
    "Is your pay kept from you?",
    "Do you owe a debt you cannot repay?",
    "Were you or your family threatened?",
    "Has anyone hit you or forced sex on you?",
    "Are you stopped from contacting your family?",
    "Do you work very long hours with no rest days?",
    "Are you denied food, sleep or medical care?",
]
"""U1-U3, then Q1-Q10."""
SCREENING_CONSENT = (
    "Would you like a hotline worker to contact you? "
    "Say yes only if a call or message from us is safe for you."
)
RESULT_P2 = (
    "Thank you. A hotline worker will look at your answers within a day. "
    "Help: {hotline_number}. Ref: {reference}"
)
RESULT_P3 = (
    "Thank you. Some answers show you may need support. A hotline worker will look at this. "
    "Help: {hotline_number}. Ref: {reference}"
)
Y, N, S = ui.YES, ui.NO, ui.SKIP


@dataclass(frozen=True)
class ScreeningCase:
    lang: str
    user: int
    answers: list[str]
    """U1-U3, Q1-Q10."""
    consent: str
    result: str
    priority: str
    rule: str
    minor: bool


SCREENINGS = [
    ScreeningCase(
        lang="ln",
        user=USER,
        # Q1 Yes (deception) and Q3 Yes (coercion); Q5 skipped.
        answers=[N, N, N, Y, Y, Y, N, S, N, N, N, N, N],
        consent=Y,
        result=RESULT_P2,
        priority="P2",
        rule="P2: deception or involuntariness with coercion",
        minor=False,
    ),
    ScreeningCase(
        lang="en",
        user=OTHER,
        # Q9 and Q10 Yes: two indicators, neither deception nor coercion; Q2 skipped.
        answers=[N, N, N, N, S, N, N, N, N, N, N, Y, Y],
        consent=N,
        result=RESULT_P3,
        priority="P3",
        rule="P3: 2 or more indicators",
        minor=False,
    ),
]


@pytest.mark.parametrize("screening", SCREENINGS, ids=[s.lang for s in SCREENINGS])
def test_a_whole_screening_by_taps_becomes_a_case(
    hotline: TelegramHotline,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
    screening: ScreeningCase,
) -> None:
    lang, user = screening.lang, screening.user
    screens = open_menu(hotline, lang, user)
    steps: list[Step] = [
        Tap(MENU, "Check my situation"),
        Tap(S0, Y),
        *(Tap(q, a) for q, a in zip(QUESTIONS, screening.answers, strict=True)),
        Tap(SCREENING_CONSENT, screening.consent),
    ]
    if screening.consent == Y:
        steps += [Tap(SAFE_TIME, "Morning"), Tap(METHOD, "A message here on Telegram")]
    screens += walk(hotline, lang, user, steps)
    reference = end_screen(hotline, lang, user, screening.result)
    assert HOTLINE in hotline.api.last(user).text
    assert_full_orthography(lang, screens)

    case = stored_case(engine, reference)
    assert (case.kind, case.channel, case.lang) == ("screening", "telegram", lang)
    assert (case.priority, case.rule) == (screening.priority, screening.rule)
    assert case.area is None, "a screening asks for no place"
    assert case.minor is screening.minor
    assert case.consent_contact is (screening.consent == Y)
    assert (case.safe_time is not None) is (screening.consent == Y)
    assert case.contact == pseudonym(PSEUDONYM_KEY, "telegram", str(user))
    assert_no_telegram_ids(database_text(engine), caplog.text)
    assert_no_token(caplog.text)


def test_a_whole_screening_with_the_call_back_asked_in_english_too(
    sqlite_hotline: TelegramHotline, tmp_path: Path
) -> None:
    """The path the two above leave out: U1 Yes skips the indicators (P1), with a call back."""
    hotline, lang = sqlite_hotline, "en"
    open_menu(hotline, lang, USER)
    walk(
        hotline,
        lang,
        USER,
        [
            Tap(MENU, "Check my situation"),
            Tap(S0, Y),
            Tap(QUESTIONS[0], Y),
            Tap(QUESTIONS[1], N),
            Tap(QUESTIONS[2], Y),
            Tap(SCREENING_CONSENT, Y),
            Tap(SAFE_TIME, "Any time"),
            Tap(METHOD, "A message here on Telegram"),
        ],
    )
    result = (
        "Thank you. Your answers are marked urgent for our team. If you can, go to a safe place. "
        "Help: {hotline_number}. Your reference: {reference}"
    )
    reference = end_screen(hotline, lang, USER, result)
    engine = make_engine(f"sqlite:///{tmp_path / 'hotline.db'}")
    try:
        case = stored_case(engine, reference)
    finally:
        engine.dispose()
    assert (case.kind, case.priority, case.rule) == ("screening", "P1", "P1: U1 in danger now")
    assert case.minor is True


# --- back and long texts ------------------------------------------------------------------------


def test_back_goes_to_the_screen_before_in_the_same_message(
    sqlite_hotline: TelegramHotline,
) -> None:
    hotline, lang = sqlite_hotline, "fr"
    open_menu(hotline, lang, USER)
    hotline.tap(tr(lang, "Report something"))
    what = hotline.api.last()
    assert what.text == tr(lang, "What is happening?")
    [(_, back)] = [(label, data) for label, data in what.buttons if label == tr(lang, ui.BACK)]
    assert back.endswith(":00"), "Back is the 00 key"
    hotline.tap(tr(lang, ui.BACK))
    menu = hotline.api.last()
    assert menu.message_id == what.message_id, "the same message shows the screen before"
    assert menu.text == tr(lang, MENU)
    hotline.tap(tr(lang, ui.BACK))
    assert hotline.api.last().text == LANGUAGE_MENU, "and back again to the language menu"


@pytest.mark.parametrize("lang", ["fr", "ln"])
def test_a_long_text_shows_whole_on_telegram_without_paging(
    sqlite_hotline: TelegramHotline, lang: str
) -> None:
    hotline = sqlite_hotline
    what = (
        "Trafficking in persons is when someone recruits, moves or holds a person by force, lies "
        "or threats, to exploit them: forced work, sex, marriage or begging. For a child under "
        "18, no force or lies are needed: exploiting a child is always trafficking."
    )
    open_menu(hotline, lang, USER)
    screens = walk(
        hotline,
        lang,
        USER,
        [
            Tap(MENU, "Learn the signs"),
            Tap("Learn the signs. Choose a topic:", "What is trafficking?"),
        ],
    )
    shown = hotline.api.last()
    assert shown.text == tr(lang, what), "the whole text in one message"
    assert len(shown.text) > 182, "longer than one USSD screen"
    assert "98" not in shown.text
    assert labels(hotline, USER) == [
        tr(lang, "Other topics"),
        tr(lang, ui.BACK),
        tr(lang, ui.EXIT),
    ], "no More button"
    assert_full_orthography(lang, [*screens, shown.text])
    hotline.tap(tr(lang, "Other topics"))
    assert hotline.api.last().text == tr(lang, "Learn the signs. Choose a topic:")


# --- one account cannot file reports in bursts (issue 11, item 2) -------------------------------


def test_past_the_hourly_limit_a_report_ends_kindly_and_nothing_is_kept(
    tmp_path: Path, router: respx.MockRouter
) -> None:
    starts = starter(tmp_path, router, None)
    start = next(starts)
    try:
        hotline, lang = (
            start(flows_dir=ROOT / "flows", locales_dir=ROOT / "locales", case_hourly_limit=1),
            "fr",
        )
        steps: list[Step] = [
            Tap(MENU, "Check my situation"),
            Tap(S0, Y),
            Tap(QUESTIONS[0], Y),
            Tap(QUESTIONS[1], N),
            Tap(QUESTIONS[2], Y),
            Tap(SCREENING_CONSENT, N),
        ]
        for attempt in range(3):
            if attempt == 0:
                open_menu(hotline, lang, USER)
            else:  # the language is remembered: the main menu at once
                hotline.send("/start", language_code=None, user=USER)
                assert hotline.api.last(USER).text == tr(lang, MENU)
            walk(hotline, lang, USER, steps)
            if attempt == 0:
                first = hotline.api.last(USER).text
                assert re.search(r"\b[A-Z0-9]{4}-[0-9]{2}\b", first), "the first one is kept"
            else:
                assert hotline.api.last(USER).text == tr(lang, ui.CASES_LIMIT)
        engine = make_engine(f"sqlite:///{tmp_path / 'hotline.db'}")
        try:
            with Session(engine) as session:
                assert len(session.exec(select(Case)).all()) == 1
        finally:
            engine.dispose()
    finally:
        next(starts, None)


# --- a call back on Telegram: a reply in the chat, and the operator's answer through the bot -----

HELP_SCREEN = (
    "Call the hotline: {hotline_number}. You do not have to give your name. Or we can contact you:"
)
CALL_BACK_SENT = (
    "Thank you. A hotline worker will try to contact you at the time you chose. "
    "Your reference: {reference}. Help: {hotline_number}"
)


def test_a_telegram_call_back_is_answered_in_the_chat_through_the_bot(
    sqlite_hotline: TelegramHotline, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """No SMS or phone call is offered without a number: the person asks for a reply here; the
    chat is kept encrypted with the case, and an operator's message reaches it."""
    hotline, lang = sqlite_hotline, "fr"
    open_menu(hotline, lang, USER)
    walk(
        hotline,
        lang,
        USER,
        [
            Tap(MENU, "Get help now"),
            Tap(HELP_SCREEN, "Ask us to contact you"),
            Tap(SAFE_TIME, "Evening"),
        ],
    )
    assert labels(hotline, USER)[:2] == [
        tr(lang, "A message here on Telegram"),
        tr(lang, "A phone call: I will type my number"),
    ], "no SMS: a Telegram case has no number to send it to"
    walk(hotline, lang, USER, [Tap(METHOD, "A message here on Telegram")])
    reference = end_screen(hotline, lang, USER, CALL_BACK_SENT)
    engine: Engine = hotline.app.state.engine
    case = stored_case(engine, reference)
    assert (case.kind, case.channel, case.consent_contact) == ("callback_request", "telegram", True)
    assert case.contact_phone is not None
    cipher = hotline.app.state.cipher
    assert cipher.decrypt(case.contact_phone, "case.contact_phone") == f"telegram:{USER}"
    assert_no_telegram_ids(database_text(engine), caplog.text)

    seed_team(engine)
    answer = "Bonjour, ici l'équipe. Pouvez-vous parler ce soir ?"
    response = hotline.client.post(
        f"/api/cases/{reference}/message",
        json={"text": answer},
        headers=headers(hotline.app, engine, "joseph", hours=24 * 365 * 10),
    )
    assert response.status_code == 202, response.text
    asyncio.run(hotline.app.state.worker.run_due(only=response.json()["queued"]))
    assert hotline.api.last(USER).text == answer, "the operator's message reached the chat"
    assert answer not in database_text(engine), "its text is encrypted at rest"
    assert_no_telegram_ids(database_text(engine), caplog.text)
    with Session(engine) as db:
        kinds = [e.kind for e in db.exec(select(CaseEvent)).all()]
        actions = [a.action for a in db.exec(select(AuditEntry)).all()]
    assert "message" in kinds and "message" in actions


def test_a_number_typed_on_telegram_is_kept_for_the_call_it_asks_for(
    sqlite_hotline: TelegramHotline, caplog: pytest.LogCaptureFixture
) -> None:
    hotline, lang = sqlite_hotline, "en"
    open_menu(hotline, lang, USER)
    walk(
        hotline,
        lang,
        USER,
        [
            Tap(MENU, "Get help now"),
            Tap(HELP_SCREEN, "Ask us to contact you"),
            Tap(SAFE_TIME, "Morning"),
            Tap(METHOD, "A phone call: I will type my number"),
            Type("Type the phone number we may call. We keep it only to contact you.", PHONE),
        ],
    )
    reference = end_screen(hotline, lang, USER, CALL_BACK_SENT)
    engine: Engine = hotline.app.state.engine
    case = stored_case(engine, reference)
    number = hotline.app.state.cipher.decrypt(case.contact_phone, "case.contact_phone")
    assert number == PHONE.replace(" ", "")
    assert_no_phone_numbers(database_text(engine), caplog.text, numbers=(PHONE.replace(" ", ""),))
    assert_no_telegram_ids(database_text(engine), caplog.text)
    seed_team(engine)
    response = hotline.client.post(
        f"/api/cases/{reference}/message",
        json={"text": "Hello"},
        headers=headers(hotline.app, engine, "joseph", hours=24 * 365 * 10),
    )
    assert response.status_code == 409, "no chat was kept: the team calls the number"
