"""One path for every message: lock, run the engine, commit events, save, then show the screen."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest

from bot.channels.sms.render import SmsRenderer
from bot.channels.telegram.render import TelegramRenderer
from bot.channels.ussd.render import UssdRenderer, response
from bot.channels.ussd.routes import new_inputs
from bot.content.files import Content
from bot.conversation.notes import read_note, write_note
from bot.conversation.ports import Declined, Screen
from bot.conversation.service import Conversations
from bot.engine.state import Event
from bot.i18n import ui
from bot.sessions import MemorySessionStore, SessionStore
from bot.sessions.pipe import Pipe
from tests.channels.conftest import LONG_LABELS
from tests.engine.conftest import CHECK, MAIN, build
from tests.sessions.conftest import open_redis_store

KEY = "ussd:ATUid_1"
NUMBER = "+266 800 12345"
REFERENCE = "K7QM-42"

SERVICES = LONG_LABELS

LONG = (
    """
flow: long
start: intro
states:
  intro:
    type: menu
    text: Services directory
    options:
      - {label: Browse services, next: pick}
  pick:
    type: menu
    text: Which service do you need?
    record: service
    options:
"""
    + "".join(f"      - {{label: {label}, next: chosen}}\n" for label in SERVICES)
    + """
  chosen:
    type: end
    text: Thank you. Your reference is {reference}.
    on_enter: [{emit: case_submitted}]
"""
)


@dataclass
class Call:
    events: list[Event]
    channel: str
    contact: str
    stored: dict[str, Any] | None
    """What the session store held for the contact when the sink was called."""


@dataclass
class RecordingSink:
    """The cases service stand-in: records each call and what was saved at that moment."""

    store: MemorySessionStore
    values: dict[str, str] = field(default_factory=lambda: {"reference": REFERENCE})
    failures: int = 0
    calls: list[Call] = field(default_factory=list)

    async def handle(
        self, events: Sequence[Event], *, channel: str, contact: str, address: str | None = None
    ) -> dict[str, str]:
        self.calls.append(Call(list(events), channel, contact, await self.store.get(contact)))
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database unavailable")
        return dict(self.values)


class NoValuesSink:
    """A sink that keeps nothing and gives no values back (no reference to show)."""

    async def handle(
        self, events: Sequence[Event], *, channel: str, contact: str, address: str | None = None
    ) -> dict[str, str]:
        return {}


class SlowStore(MemorySessionStore):
    """A store whose reads and writes take time, so concurrent requests really interleave."""

    async def get(self, key: str) -> dict[str, Any] | None:
        await asyncio.sleep(0.01)
        return await super().get(key)

    async def set(self, key: str, value: dict[str, Any], ttl: int) -> None:
        await asyncio.sleep(0.01)
        await super().set(key, value, ttl)


@pytest.fixture(scope="module")
def content() -> Content:
    registry, catalogs = build(MAIN, CHECK, LONG)
    return Content(registry, catalogs)


@pytest.fixture
def store() -> MemorySessionStore:
    return MemorySessionStore()


@pytest.fixture
def sink(store: MemorySessionStore) -> RecordingSink:
    return RecordingSink(store)


@pytest.fixture
def conversations(
    content: Content, store: MemorySessionStore, sink: RecordingSink
) -> Conversations:
    return Conversations(content, store, sink, values={"hotline_number": NUMBER})


@pytest.fixture
def ussd(content: Content) -> UssdRenderer:
    return UssdRenderer(content.tr)


def lines(screen: Screen) -> list[str]:
    return screen.text.split("\n")


async def stored_state(store: MemorySessionStore, key: str = KEY) -> str | None:
    data = await store.get(key)
    return None if data is None else str(data["state"])


async def test_start_shows_the_first_screen_and_saves_it(
    conversations: Conversations, ussd: UssdRenderer, store: MemorySessionStore
) -> None:
    screen = await conversations.start(KEY, ussd, "en")
    assert response(screen) == "CON Choose your language:\n1 English\n2 Francais\n0 Exit"
    assert await stored_state(store) == "language"


async def test_a_walk_in_french_then_get_help_fills_the_hotline_number(
    conversations: Conversations, ussd: UssdRenderer, store: MemorySessionStore
) -> None:
    await conversations.start(KEY, ussd, "en")
    menu = await conversations.reply(KEY, "2", ussd, "en")
    assert lines(menu) == [
        "FR Main menu",
        "1 FR Check my situation",
        "2 FR Get help",
        "00 FR Back",
        "0 FR Exit",
    ]
    assert not menu.end
    done = await conversations.reply(KEY, "2", ussd, "en")
    assert response(done) == f"END FR Call {NUMBER}."
    assert await store.get(KEY) is None, "an ended conversation is not kept"


async def test_back_returns_to_the_previous_screen(
    conversations: Conversations, ussd: UssdRenderer, store: MemorySessionStore
) -> None:
    await conversations.start(KEY, ussd, "en")
    await conversations.reply(KEY, "1", ussd, "en")
    back = await conversations.reply(KEY, "00", ussd, "en")
    assert lines(back)[0] == "Choose your language:"
    assert await stored_state(store) == "language"


async def test_exit_says_goodbye_and_forgets_the_session(
    conversations: Conversations, ussd: UssdRenderer, store: MemorySessionStore
) -> None:
    await conversations.start(KEY, ussd, "en")
    await conversations.reply(KEY, "2", ussd, "en")
    bye = await conversations.reply(KEY, "0", ussd, "en")
    assert response(bye) == "END FR Thank you. Stay safe. You can come back at any time."
    assert await store.get(KEY) is None


async def test_end_forgets_the_session(
    conversations: Conversations, ussd: UssdRenderer, store: MemorySessionStore
) -> None:
    await conversations.start(KEY, ussd, "en")
    await conversations.end(KEY)
    assert await store.get(KEY) is None


async def test_start_replaces_an_earlier_conversation(
    conversations: Conversations, ussd: UssdRenderer, store: MemorySessionStore
) -> None:
    await conversations.start(KEY, ussd, "en")
    await conversations.reply(KEY, "1", ussd, "en")
    assert await stored_state(store) == "menu"
    screen = await conversations.start(KEY, ussd, "en")
    assert lines(screen)[0] == "Choose your language:"
    assert await stored_state(store) == "language"


async def walk_check_to_describe(conversations: Conversations, ussd: UssdRenderer) -> Screen:
    screen = await conversations.start(KEY, ussd, "en", flow="check")
    assert lines(screen)[0] == "Is it safe to answer now?"
    for answer in ["1", "1", "1", "1", "1"]:
        screen = await conversations.reply(KEY, answer, ussd, "en")
    assert lines(screen)[0] == "Say in a few words what happens."
    return screen


async def test_events_are_committed_before_saving_and_their_values_are_shown(
    conversations: Conversations,
    ussd: UssdRenderer,
    store: MemorySessionStore,
    sink: RecordingSink,
) -> None:
    await walk_check_to_describe(conversations, ussd)
    assert sink.calls == [], "no events until the screening is complete"
    before = await store.get(KEY)
    done = await conversations.reply(KEY, "they took our passports", ussd, "en")
    assert response(done).startswith("END ")
    assert lines(done)[-1] == f"Thank you. Your reference is {REFERENCE}."
    assert lines(done)[0] == "Your text was cut to 20 characters."
    (call,) = sink.calls
    assert [e.name for e in call.events] == ["screening_completed"]
    assert call.events[0].payload["answers"]["describe"] == "they took our passpo"
    assert call.events[0].payload["priority"] == "P1"
    assert call.channel == "ussd" and call.contact == KEY
    assert call.stored == before, "the sink ran while the earlier state was still saved"
    assert await store.get(KEY) is None


async def test_a_failing_sink_propagates_and_leaves_the_session_for_a_retry(
    conversations: Conversations,
    ussd: UssdRenderer,
    store: MemorySessionStore,
    sink: RecordingSink,
) -> None:
    await walk_check_to_describe(conversations, ussd)
    before = await store.get(KEY)
    sink.failures = 1
    with pytest.raises(ConnectionError):
        await conversations.reply(KEY, "we cannot leave", ussd, "en")
    assert await store.get(KEY) == before, "nothing acknowledged, nothing moved on"
    retried = await conversations.reply(KEY, "we cannot leave", ussd, "en")
    assert response(retried) == f"END Thank you. Your reference is {REFERENCE}."
    assert len(sink.calls) == 2
    assert sink.calls[0].events == sink.calls[1].events
    assert await store.get(KEY) is None


class DecliningSink:
    """A cases service past its limit for this contact: keeps nothing, declines."""

    def __init__(self) -> None:
        self.calls = 0

    async def handle(
        self, events: Sequence[Event], *, channel: str, contact: str, address: str | None = None
    ) -> dict[str, str]:
        self.calls += 1
        raise Declined(ui.CASES_LIMIT)


async def test_a_declining_sink_ends_the_conversation_on_its_neutral_message(
    content: Content, ussd: UssdRenderer, store: MemorySessionStore
) -> None:
    declining = DecliningSink()
    conversations = Conversations(content, store, declining, values={"hotline_number": NUMBER})
    await walk_check_to_describe(conversations, ussd)
    done = await conversations.reply(KEY, "we cannot leave", ussd, "en")
    assert response(done) == (
        f"END We have received your recent reports. If you are in danger, call {NUMBER}."
    )
    assert declining.calls == 1
    assert await store.get(KEY) is None, "nothing of the refused report is kept"


async def test_dialled_inputs_stop_before_the_step_that_submits(
    conversations: Conversations, sink: RecordingSink, ussd: UssdRenderer
) -> None:
    text = "1*1*1*1*1*1*1*they took our papers"
    screen = await conversations.exchange(
        KEY, ussd, "en", request=text, inputs=lambda previous: text.split("*")
    )
    assert not screen.end and sink.calls == [], "no single request submits a report"
    answered = await conversations.exchange(
        KEY, ussd, "en", request=text + "*x", inputs=lambda previous: ["they took our papers"]
    )
    assert answered.end and len(sink.calls) == 1


async def test_a_failing_sink_releases_the_session_lock(
    conversations: Conversations,
    ussd: UssdRenderer,
    store: MemorySessionStore,
    sink: RecordingSink,
) -> None:
    await walk_check_to_describe(conversations, ussd)
    sink.failures = 1
    with pytest.raises(ConnectionError):
        await conversations.reply(KEY, "help", ussd, "en")
    async with asyncio.timeout(1):
        async with store.lock(KEY, wait=0):
            pass


async def test_the_sink_hears_the_channel_name(
    content: Content, store: MemorySessionStore, sink: RecordingSink
) -> None:
    conversations = Conversations(content, store, sink)
    telegram = TelegramRenderer(content.tr)
    await conversations.start(KEY, telegram, "en", flow="check")
    for answer in ["1", "2", "2", "2"]:
        await conversations.reply(KEY, answer, telegram, "en")
    done = await conversations.reply(KEY, "", telegram, "en")
    assert done.end and done.text == f"Thank you. Your reference is {REFERENCE}."
    assert [c.channel for c in sink.calls] == ["telegram"]


async def test_a_sink_without_values_leaves_the_placeholder(
    content: Content, store: MemorySessionStore
) -> None:
    conversations = Conversations(content, store, NoValuesSink())
    ussd = UssdRenderer(content.tr)
    await conversations.start(KEY, ussd, "en", flow="check")
    for answer in ["1", "2", "2", "2"]:
        await conversations.reply(KEY, answer, ussd, "en")
    done = await conversations.reply(KEY, "", ussd, "en")
    assert done.text == "Thank you. Your reference is {reference}."


async def open_long_menu(conversations: Conversations, ussd: UssdRenderer) -> Screen:
    await conversations.start(KEY, ussd, "en", flow="long")
    first = await conversations.reply(KEY, "1", ussd, "en")
    assert first.pages > 1 and first.page == 0
    assert lines(first)[0] == "Which service do you need?"
    return first


def options_on(screen: Screen) -> list[str]:
    return [
        row.split(" ", 1)[0]
        for row in lines(screen)
        if row.split(" ", 1)[0].isdigit() and row.split(" ", 1)[0] not in ("98", "00", "0")
    ]


async def test_98_and_00_turn_the_pages_of_a_long_menu(
    conversations: Conversations, ussd: UssdRenderer, store: MemorySessionStore
) -> None:
    first = await open_long_menu(conversations, ussd)
    seen = [options_on(first)]
    screen = first
    while screen.page + 1 < screen.pages:
        assert lines(screen)[-3] == "98 More"
        screen = await conversations.reply(KEY, "98", ussd, "en")
        seen.append(options_on(screen))
        stored = await store.get(KEY)
        assert stored is not None and stored["page"] == screen.page
        assert stored["state"] == "pick"
    assert [o for page in seen for o in page] == [str(i) for i in range(1, 16)]
    assert "98 More" not in lines(screen)
    assert screen.page == first.pages - 1
    back = await conversations.reply(KEY, "00", ussd, "en")
    assert back.page == screen.page - 1
    assert options_on(back) == seen[-2]


async def test_00_on_the_first_page_goes_back_a_screen(
    conversations: Conversations, ussd: UssdRenderer, store: MemorySessionStore
) -> None:
    await open_long_menu(conversations, ussd)
    await conversations.reply(KEY, "98", ussd, "en")
    first = await conversations.reply(KEY, "00", ussd, "en")
    assert first.page == 0 and lines(first)[0] == "Which service do you need?"
    intro = await conversations.reply(KEY, "00", ussd, "en")
    assert lines(intro)[0] == "Services directory"
    assert await stored_state(store) == "intro"


async def test_an_option_from_any_page_is_accepted(
    conversations: Conversations,
    ussd: UssdRenderer,
    sink: RecordingSink,
) -> None:
    await open_long_menu(conversations, ussd)
    await conversations.reply(KEY, "98", ussd, "en")
    done = await conversations.reply(KEY, "14", ussd, "en")
    assert response(done) == f"END Thank you. Your reference is {REFERENCE}."
    (call,) = sink.calls
    assert call.events[0].payload["answers"] == {"service": "14"}


async def test_98_on_the_last_page_stays_there(
    conversations: Conversations, ussd: UssdRenderer, store: MemorySessionStore
) -> None:
    screen = await open_long_menu(conversations, ussd)
    while screen.page + 1 < screen.pages:
        screen = await conversations.reply(KEY, "98", ussd, "en")
    again = await conversations.reply(KEY, "98", ussd, "en")
    assert again.page == screen.page and options_on(again) == options_on(screen)
    assert await stored_state(store) == "pick"


async def test_a_wrong_key_on_a_long_menu_keeps_every_option_reachable(
    conversations: Conversations, ussd: UssdRenderer
) -> None:
    first = await open_long_menu(conversations, ussd)
    hinted = await conversations.reply(KEY, "77", ussd, "en")
    assert hinted.page == 0
    seen = options_on(hinted)
    screen = hinted
    while screen.page + 1 < screen.pages:
        screen = await conversations.reply(KEY, "98", ussd, "en")
        seen += options_on(screen)
    assert seen == [str(i) for i in range(1, 16)], "no option skipped or shown twice"
    assert lines(hinted)[:2] == [content_hint(conversations), lines(first)[0]]


async def test_98_on_a_single_page_menu_is_an_invalid_answer_with_the_hint(
    conversations: Conversations, ussd: UssdRenderer, store: MemorySessionStore
) -> None:
    await conversations.start(KEY, ussd, "en")
    await conversations.reply(KEY, "1", ussd, "en")
    screen = await conversations.reply(KEY, "98", ussd, "en")
    assert lines(screen)[:2] == ["Please reply with one of the numbers shown.", "Main menu"]
    assert screen.pages == 1
    assert await stored_state(store) == "menu"


async def test_98_on_telegram_is_an_ordinary_answer(
    content: Content, store: MemorySessionStore, sink: RecordingSink
) -> None:
    conversations = Conversations(content, store, sink)
    telegram = TelegramRenderer(content.tr)
    await conversations.start(KEY, telegram, "en", flow="long")
    await conversations.reply(KEY, "1", telegram, "en")
    screen = await conversations.reply(KEY, "98", telegram, "en")
    assert screen.text.startswith("Please reply with one of the numbers shown.")
    assert len(screen.buttons) == 17


async def test_sms_pages_a_long_menu_too(
    conversations: Conversations, content: Content, store: MemorySessionStore
) -> None:
    sms = SmsRenderer(content.tr)
    await conversations.start(KEY, sms, "en", flow="long")
    first = await conversations.reply(KEY, "1", sms, "en")
    assert first.pages > 1
    second = await conversations.reply(KEY, "98", sms, "en")
    assert second.page == 1 and options_on(second)[0] == str(len(options_on(first)) + 1)


async def test_a_reply_without_a_session_starts_again_politely(
    conversations: Conversations, ussd: UssdRenderer, store: MemorySessionStore
) -> None:
    screen = await conversations.reply(KEY, "2", ussd, "fr")
    assert lines(screen)[:2] == [
        "FR Your last session had ended, so we started again.",
        "FR Choose your language:",
    ]
    assert not screen.end
    assert await stored_state(store) == "language"
    menu = await conversations.reply(KEY, "2", ussd, "fr")
    assert lines(menu)[0] == "FR Main menu"


async def test_an_expired_session_starts_again_politely(
    content: Content, ussd: UssdRenderer
) -> None:
    now = [1000.0]
    store = MemorySessionStore(clock=lambda: now[0])
    conversations = Conversations(content, store, RecordingSink(store), ttl=300)
    await conversations.start(KEY, ussd, "en")
    await conversations.reply(KEY, "1", ussd, "en")
    now[0] += 301
    screen = await conversations.reply(KEY, "2", ussd, "en")
    assert lines(screen)[0] == "Your last session had ended, so we started again."


async def test_concurrent_replies_on_one_session_apply_one_after_the_other(
    content: Content, ussd: UssdRenderer
) -> None:
    store = SlowStore()
    conversations = Conversations(
        content, store, RecordingSink(store), values={"hotline_number": NUMBER}
    )
    await conversations.start(KEY, ussd, "en")
    first, second = await asyncio.gather(
        conversations.reply(KEY, "1", ussd, "en"),  # English -> main menu
        conversations.reply(KEY, "2", ussd, "en"),  # then, on the main menu: Get help
    )
    assert lines(first)[0] == "Main menu"
    assert response(second) == f"END Call {NUMBER}."
    assert await store.get(KEY) is None


async def test_concurrent_sessions_do_not_wait_for_each_other(
    content: Content, ussd: UssdRenderer
) -> None:
    store = SlowStore()
    conversations = Conversations(content, store, RecordingSink(store))
    await conversations.start("a", ussd, "en")
    await conversations.start("b", ussd, "en")
    a, b = await asyncio.gather(
        conversations.reply("a", "1", ussd, "en"), conversations.reply("b", "2", ussd, "en")
    )
    assert lines(a)[0] == "Main menu" and lines(b)[0] == "FR Main menu"


async def test_a_replayed_provider_session_emits_the_same_event_ids(
    conversations: Conversations, store: MemorySessionStore, sink: RecordingSink, ussd: UssdRenderer
) -> None:
    """A USSD session rebuilt from the provider's record after its state was lost must not
    look like a new report: the replay stops before the step that submits (replayed inputs
    confirm nothing), and the submission the person then makes keeps its event id, so the
    cases service dedupes it."""
    text = "1*1*1*1*1*1*1*they took our papers"

    def cumulative(previous: str | None) -> list[str]:
        return text.split("*") if previous is None else [text.split("*")[-1]]

    before = "*".join(text.split("*")[:-1])
    await conversations.exchange(
        KEY, ussd, "en", request=before, inputs=lambda p: before.split("*")
    )
    first = await conversations.exchange(KEY, ussd, "en", request=text, inputs=cumulative)
    assert first.end
    await store.delete(KEY)  # the state is lost (a store restart), the provider retries
    replayed = await conversations.exchange(KEY, ussd, "en", request=text, inputs=cumulative)
    assert not replayed.end, "a replay never submits on its own"
    assert len(sink.calls) == 1
    again = await conversations.exchange(
        KEY, ussd, "en", request=text + "*again", inputs=cumulative
    )
    assert again.text == first.text
    ids = [call.events[0].payload["event_id"] for call in sink.calls]
    assert len(ids) == 2 and ids[0] == ids[1]


async def test_a_provider_session_keeps_no_rendered_screen_yet_answers_retries_alike(
    conversations: Conversations, store: MemorySessionStore, ussd: UssdRenderer
) -> None:
    """What a USSD session keeps is small (issue 11: ~1 KiB of Redis per active caller): the
    state re-renders the screens a repeated or late request gets, the hint included."""

    def upto(text: str) -> Callable[[str | None], list[str] | None]:
        return partial(new_inputs, text)

    shown = {}
    for text in ("", "1", "1*7"):
        shown[text] = await conversations.exchange(KEY, ussd, "en", request=text, inputs=upto(text))
    data = await store.get(KEY)
    assert data is not None
    assert "screen" not in data["memo"] and all(
        len(entry) != 5 for entry in data["memo"]["seen"]
    ), "no rendered screen is stored"
    assert len(json.dumps(data, separators=(",", ":"))) < 400
    hinted = shown["1*7"]
    assert lines(hinted)[:2] == [content_hint(conversations), "Main menu"]
    again = await conversations.exchange(KEY, ussd, "en", request="1*7", inputs=upto("1*7"))
    assert again == hinted
    late = await conversations.exchange(KEY, ussd, "en", request="1", inputs=upto("1"))
    assert late == shown["1"]


def content_hint(conversations: Conversations) -> str:
    """The 'reply with a number' hint in English, as the tagged catalog has it."""
    return conversations.content.tr("en", ui.HINT_CHOICE)


# --- the language a contact chose is remembered (DESIGN §6) -------------------------------------

CONTACT = "ph_0123456789abcdef0123456789abcdef"
DAY = 86400

CHANGE = """
flow: main
start: language
states:
  language:
    type: menu
    text: "Choose your language:"
    back: false
    options:
      - {label: English, translate: false, do: [{set_language: en}], next: menu}
      - {label: Francais, translate: false, do: [{set_language: fr}], next: menu}
      - {label: Lingala, translate: false, do: [{set_language: ln}], next: menu}
  menu:
    type: menu
    text: Main menu
    options:
      - {label: Get help, next: help}
      - {label: Change language, next: language}
  help:
    type: end
    text: Call {hotline_number}.
"""


@pytest.fixture(scope="module")
def changing() -> Content:
    """A main flow whose menu has 'Change language', as the shipped one."""
    registry, catalogs = build(CHANGE)
    return Content(registry, catalogs)


@pytest.fixture(params=["memory", "redis"])
async def any_store(request: pytest.FixtureRequest) -> AsyncIterator[SessionStore]:
    """The in-process store, or real Redis under a prefix of its own (removed afterwards)."""
    if request.param == "memory":
        yield MemorySessionStore()
        return
    async with open_redis_store() as redis_store:
        yield redis_store


async def lang_of(store: SessionStore, note: str) -> str | None:
    """The language a contact's note remembers."""
    found = read_note(await store.recall(note))
    return None if found is None else found.lang


def remembering(content: Content, store: SessionStore, days: int = 90) -> Conversations:
    return Conversations(
        content, store, NoValuesSink(), values={"hotline_number": NUMBER}, language_ttl=days * DAY
    )


async def test_a_chosen_language_opens_the_next_conversation_at_the_main_menu(
    changing: Content, any_store: SessionStore, ussd: UssdRenderer
) -> None:
    conversations = remembering(changing, any_store)
    first = await conversations.start(KEY, ussd, "en", contact=CONTACT)
    assert lines(first)[0] == "Choose your language:"
    menu = await conversations.reply(KEY, "2", ussd, "en", contact=CONTACT)
    assert lines(menu)[0] == "FR Main menu"
    await conversations.end(KEY)
    again = await conversations.start("ussd:other", ussd, "en", contact=CONTACT)
    assert lines(again) == ["FR Main menu", "1 FR Get help", "2 FR Change language", "0 FR Exit"]
    # "Change language" leads back to the language menu; a new choice replaces the old one.
    languages = await conversations.reply("ussd:other", "2", ussd, "en", contact=CONTACT)
    assert lines(languages)[0] == "FR Choose your language:"
    await conversations.reply("ussd:other", "3", ussd, "en", contact=CONTACT)
    ln = await conversations.message("sms:x", "hello", ussd, "en", contact=CONTACT)
    assert lines(ln)[0] == "LN Main menu"
    assert await lang_of(any_store, conversations.language_note(CONTACT)) == "ln"


async def test_what_counts_as_choosing(
    changing: Content, any_store: SessionStore, ussd: UssdRenderer
) -> None:
    """Choosing the language already shown counts; an invalid answer, exit and back do not."""
    conversations = remembering(changing, any_store)
    note = conversations.language_note(CONTACT)
    await conversations.start(KEY, ussd, "en", contact=CONTACT)
    await conversations.reply(KEY, "7", ussd, "en", contact=CONTACT)
    await conversations.reply(KEY, "0", ussd, "en", contact=CONTACT)
    assert await any_store.recall(note) is None
    await conversations.start(KEY, ussd, "en", contact=CONTACT)
    await conversations.reply(KEY, "1", ussd, "en", contact=CONTACT)  # English, as shown
    assert await lang_of(any_store, note) == "en"
    await conversations.reply(KEY, "2", ussd, "en", contact=CONTACT)  # Change language
    await conversations.reply(KEY, "2", ussd, "en", contact=CONTACT)  # Francais
    assert await lang_of(any_store, note) == "fr"
    back = await conversations.reply(KEY, "00", ussd, "en", contact=CONTACT)
    assert lines(back)[0] == "Choose your language:", "back replays: English again on screen"
    assert await lang_of(any_store, note) == "fr", "going back chose nothing"


async def test_nothing_is_remembered_without_a_contact_or_when_switched_off(
    changing: Content, ussd: UssdRenderer
) -> None:
    store = MemorySessionStore()
    for conversations, contact in (
        (remembering(changing, store), None),
        (remembering(changing, store, days=0), CONTACT),
    ):
        await conversations.start(KEY, ussd, "en", contact=contact)
        await conversations.reply(KEY, "2", ussd, "en", contact=contact)
        again = await conversations.start("ussd:other", ussd, "en", contact=contact)
        assert lines(again)[0] == "Choose your language:"
    assert store._notes == {}  # white-box: nothing written at all


async def test_an_explicit_start_wins_over_the_remembered_language(
    changing: Content, ussd: UssdRenderer
) -> None:
    """An SMS keyword opens the menu in its own language, and does not replace the memory."""
    store = MemorySessionStore()
    conversations = remembering(changing, store)
    await conversations.start(KEY, ussd, "en", contact=CONTACT)
    await conversations.reply(KEY, "2", ussd, "en", contact=CONTACT)
    keyword = await conversations.start(KEY, ussd, "ln", at="menu", contact=CONTACT)
    assert lines(keyword)[0] == "LN Main menu"
    assert await lang_of(store, conversations.language_note(CONTACT)) == "fr"


async def test_a_restarted_conversation_uses_the_remembered_language(
    changing: Content, ussd: UssdRenderer
) -> None:
    store = MemorySessionStore()
    conversations = remembering(changing, store)
    await store.remember(conversations.language_note(CONTACT), "ln", 60)
    screen = await conversations.reply(KEY, "1", ussd, "en", contact=CONTACT)
    assert lines(screen)[:2] == [
        "LN Your last session had ended, so we started again.",
        "LN Main menu",
    ]


async def test_exchange_uses_the_memory_only_for_a_session_without_inputs(
    changing: Content, ussd: UssdRenderer
) -> None:
    """A first request with dialled inputs (or a replay after a lost state) starts at the
    beginning, so its inputs mean what they always mean; a language it picks is remembered."""
    store = MemorySessionStore()
    conversations = remembering(changing, store)
    await store.remember(conversations.language_note(CONTACT), "fr", 60)

    def everything(text: str) -> Callable[[str | None], list[str]]:
        return lambda previous: text.split("*") if previous is None and text else []

    plain = await conversations.exchange(
        "ussd:a", ussd, "en", request="", inputs=everything(""), contact=CONTACT
    )
    assert lines(plain)[0] == "FR Main menu"
    dialled = await conversations.exchange(
        "ussd:b", ussd, "en", request="3", inputs=everything("3"), contact=CONTACT
    )
    assert lines(dialled)[0] == "LN Main menu"
    assert await lang_of(store, conversations.language_note(CONTACT)) == "ln"


async def test_the_memory_key_is_derived_from_the_contact_and_kept_for_days(
    changing: Content, ussd: UssdRenderer
) -> None:
    now = [1000.0]
    store = MemorySessionStore(clock=lambda: now[0])
    conversations = remembering(changing, store, days=30)
    note = conversations.language_note(CONTACT)
    assert CONTACT not in note and CONTACT[3:] not in note
    assert note == conversations.language_note(CONTACT) != conversations.language_note("ph_x")
    await conversations.start(KEY, ussd, "en", contact=CONTACT)
    await conversations.reply(KEY, "3", ussd, "en", contact=CONTACT)
    now[0] += 30 * DAY - 1
    assert await lang_of(store, note) == "ln"
    now[0] += 2
    assert await store.recall(note) is None
    again = await conversations.start("ussd:other", ussd, "en", contact=CONTACT)
    assert lines(again)[0] == "Choose your language:"


async def test_a_remembered_language_that_is_not_one_of_ours_is_ignored(
    changing: Content, ussd: UssdRenderer
) -> None:
    store = MemorySessionStore()
    conversations = remembering(changing, store)
    await store.remember(conversations.language_note(CONTACT), "xx", 60)
    screen = await conversations.start(KEY, ussd, "en", contact=CONTACT)
    assert lines(screen)[0] == "Choose your language:"


async def test_without_a_main_menu_a_remembered_language_starts_at_the_beginning(
    content: Content, ussd: UssdRenderer, caplog: pytest.LogCaptureFixture
) -> None:
    """Flows whose main flow has no 'menu' screen start as before (in the default language)."""
    home = MAIN.replace("  menu:\n", "  home:\n").replace("next: menu}", "next: home}")
    registry, catalogs = build(home, CHECK)
    store = MemorySessionStore()
    conversations = remembering(Content(registry, catalogs), store)
    await store.remember(conversations.language_note(CONTACT), "fr", 60)
    screen = await conversations.start(KEY, ussd, "en", contact=CONTACT)
    assert lines(screen)[0] == "Choose your language:"
    assert "starting at the beginning" in caplog.text


# --- a conversation whose state is lost after it opened at the remembered main menu ----------


def at_text(text: str) -> Callable[[str | None], list[str] | None]:
    return partial(new_inputs, text)


async def test_a_lost_provider_session_is_replayed_from_the_main_menu_it_opened_at(
    changing: Content, any_store: SessionStore, ussd: UssdRenderer
) -> None:
    """From the language menu, "1" (Get help on the French main menu) would choose English."""
    conversations = remembering(changing, any_store)
    await any_store.remember(conversations.language_note(CONTACT), "fr", 60)
    first = await conversations.exchange(
        KEY, ussd, "en", request="", inputs=at_text(""), contact=CONTACT
    )
    assert lines(first)[0] == "FR Main menu"
    await any_store.delete(KEY)  # the state is lost
    done = await conversations.exchange(
        KEY, ussd, "en", request="1", inputs=at_text("1"), contact=CONTACT
    )
    assert response(done) == f"END FR Call {NUMBER}."


async def test_a_lost_provider_session_whose_first_screen_is_gone_starts_again_politely(
    content: Content, ussd: UssdRenderer, caplog: pytest.LogCaptureFixture
) -> None:
    """Its note says it opened at a main menu that the flows no longer have: nothing is applied
    to a screen it may not mean; the first screen comes back with a short notice."""
    home = MAIN.replace("  menu:\n", "  home:\n").replace("next: menu}", "next: home}")
    registry, catalogs = build(home, CHECK)
    store = MemorySessionStore()
    conversations = remembering(Content(registry, catalogs), store)
    sid = hashlib.sha256(KEY.encode()).hexdigest()
    await store.remember(conversations.language_note(CONTACT), write_note("fr", sid, "fr"), 60)
    screen = await conversations.exchange(
        KEY, ussd, "en", request="2*1", inputs=at_text("2*1"), contact=CONTACT
    )
    assert lines(screen)[:2] == [
        "FR Your last session had ended, so we started again.",
        "FR Choose your language:",
    ]
    assert "starting again with a notice" in caplog.text
    saved = await store.get(KEY)
    assert saved is not None and saved["inputs"] == [] and saved["memo"]["request"] == "2*1"


async def test_a_dialled_shortcut_ignores_a_note_another_session_left(
    changing: Content, any_store: SessionStore, ussd: UssdRenderer
) -> None:
    conversations = remembering(changing, any_store)
    await any_store.remember(
        conversations.language_note(CONTACT), write_note("fr", "x" * 32, "fr"), 60
    )
    screen = await conversations.exchange(
        KEY, ussd, "en", request="3", inputs=at_text("3"), contact=CONTACT
    )
    assert lines(screen)[0] == "LN Main menu"


@pytest.mark.parametrize("channel", ["sms", "telegram"])
async def test_a_lost_sms_or_telegram_conversation_never_applies_the_reply_elsewhere(
    changing: Content, any_store: SessionStore, channel: str
) -> None:
    """SMS and Telegram carry one reply, not the session's inputs: with the state gone the
    reply is not applied, and the main menu comes back in the remembered language (on
    Telegram with a notice that the conversation started again)."""
    conversations = remembering(changing, any_store)
    renderer = SmsRenderer(changing.tr) if channel == "sms" else TelegramRenderer(changing.tr)
    key = f"{channel}:{CONTACT}"
    await conversations.start(key, renderer, "en", contact=CONTACT)
    menu = await conversations.reply(key, "2", renderer, "en", contact=CONTACT)
    assert menu.text.startswith("FR Main menu")
    await any_store.delete(key)
    if channel == "sms":
        again = await conversations.message(key, "1", renderer, "en", contact=CONTACT)
        assert again.text == "FR Main menu\n1 FR Get help\n2 FR Change language\n0 FR Exit"
    else:
        again = await conversations.reply(key, "1", renderer, "en", contact=CONTACT)
        assert again.text == "FR Your last session had ended, so we started again.\n\nFR Main menu"
    assert not again.end, "the reply (1: Get help) was not applied to the new screen"


async def test_a_chosen_language_and_the_session_are_saved_in_two_redis_round_trips(
    changing: Content, ussd: UssdRenderer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lock and read (the session, and the memory for a new one) in one trip; save, remember
    and unlock in one more."""
    async with open_redis_store() as store:
        conversations = remembering(changing, store)
        await conversations.start(KEY, ussd, "en", contact=CONTACT)  # scripts, connection
        sent: list[bytes] = []
        real = Pipe.call

        async def counting(self: Pipe, packed: bytes) -> Any:
            sent.append(packed)
            return await real(self, packed)

        monkeypatch.setattr(Pipe, "call", counting)
        await conversations.reply(KEY, "2", ussd, "en", contact=CONTACT)
        assert len(sent) == 2
        sent.clear()
        await conversations.start("ussd:other", ussd, "en", contact=CONTACT)
        assert len(sent) == 2
