"""The Telegram bot through its webhook: buttons, languages, quick exit, media, privacy.

Every update goes through the real app (``create_app``) with the Bot API mocked by respx
(``telegram_fake.FakeTelegram`` records each call and keeps each chat's messages).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import respx
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels.telegram.bot import MAX_MESSAGES, Chat, ChatRecord
from bot.channels.telegram.render import MESSAGE_LIMIT
from bot.core.privacy import pseudonym
from bot.core.settings import ROOT
from bot.i18n import ui
from bot.i18n.catalog import Catalogs
from bot.i18n.translate import Translate
from bot.models import Case
from tests.channels.telegram.fake import (
    HELP,
    HOTLINE,
    LANGUAGE_MENU,
    MENU,
    OTHER,
    PSEUDONYM_KEY,
    SHIPPED_MENU,
    USER,
    TelegramHotline,
    assert_no_telegram_ids,
    assert_no_token,
    starter,
    translate,
)
from tests.conftest import database_text


@pytest.fixture
def start(tmp_path: Path, router: respx.MockRouter) -> Iterator[Callable[..., TelegramHotline]]:
    yield from starter(tmp_path, router)


@pytest.fixture
def hotline(start: Callable[..., TelegramHotline]) -> TelegramHotline:
    return start()


@pytest.fixture
def tr(hotline: TelegramHotline) -> Translate:
    return translate()


def labels(hotline: TelegramHotline, user: int = USER) -> list[str]:
    return [label for label, _ in hotline.api.keyboard(user).buttons]


def session(hotline: TelegramHotline, user: int = USER) -> dict[str, object] | None:
    """The conversation saved for a chat (a portal call: the store lives in the app's loop)."""
    name = pseudonym(PSEUDONYM_KEY, "telegram", str(user))
    portal = hotline.client.portal
    assert portal is not None
    found: dict[str, object] | None = portal.call(hotline.app.state.store.get, f"telegram:{name}")
    return found


def record(hotline: TelegramHotline, user: int = USER) -> ChatRecord | None:
    name = pseudonym(PSEUDONYM_KEY, "telegram", str(user))
    portal = hotline.client.portal
    assert portal is not None
    data = portal.call(hotline.app.state.store.get, f"telegram-chat:{name}")
    return None if data is None else ChatRecord.from_dict(data)


# --- a conversation by buttons ----------------------------------------------------------------


def test_start_opens_the_main_menu_in_the_person_s_language(
    hotline: TelegramHotline, tr: Translate
) -> None:
    hotline.send("/start", language_code="en-GB")
    menu = hotline.api.last()
    assert menu.text == MENU
    assert labels(hotline) == ["Report something", "Get help now", "Change language", "Exit"]
    [options, *_] = [json.loads(p["reply_markup"]) for p in hotline.api.called("sendMessage")]
    rows = options["inline_keyboard"]
    assert [len(row) for row in rows] == [1, 1, 1, 1], "one button per row, exit on its own"
    assert all(len(b["callback_data"].encode()) <= 64 for row in rows for b in row)


@pytest.mark.parametrize("code", [None, "de", "pt-BR", ""])
def test_an_unknown_language_gets_the_language_menu(
    hotline: TelegramHotline, code: str | None
) -> None:
    hotline.send("/start", language_code=code)
    assert hotline.api.last().text == LANGUAGE_MENU
    assert labels(hotline) == ["English", "Francais", "Lingala", "Sesotho", "Exit"]


@pytest.mark.parametrize(("lang", "button"), [("en", "English"), ("fr", "Francais")])
def test_language_then_menu_then_get_help_now(
    hotline: TelegramHotline, tr: Translate, lang: str, button: str
) -> None:
    hotline.send("/start", language_code="de")
    language_menu = hotline.api.last()
    hotline.tap(button)
    menu = hotline.api.last()
    assert menu.message_id == language_menu.message_id, "the tapped message shows the next screen"
    assert menu.text == tr(lang, MENU)
    assert labels(hotline) == [
        tr(lang, "Report something"),
        tr(lang, "Get help now"),
        tr(lang, "Change language"),
        tr(lang, ui.BACK),
        tr(lang, ui.EXIT),
    ]
    hotline.tap(tr(lang, "Get help now"))
    end = hotline.api.last()
    assert end.text == tr(lang, HELP)
    assert HOTLINE in end.text and end.buttons == []
    assert hotline.api.methods() == [
        "sendMessage",
        "editMessageText",
        "answerCallbackQuery",
        "editMessageText",
        "answerCallbackQuery",
    ]
    assert session(hotline) is None, "the conversation ended"


@pytest.mark.parametrize(
    ("lang", "button", "user"), [("en", "English", USER), ("fr", "Francais", OTHER)]
)
def test_the_shipped_flows_from_the_language_menu_to_get_help_now(
    start: Callable[..., TelegramHotline], lang: str, button: str, user: int
) -> None:
    hotline = start(flows_dir=ROOT / "flows", locales_dir=ROOT / "locales")
    catalogs = Catalogs.load(ROOT / "locales")

    def tr(msgid: str) -> str:
        return catalogs.gettext(lang, msgid).replace("{hotline_name}", "Helpline")

    hotline.send("/start", language_code=None, user=user)
    assert hotline.api.last(user).text == LANGUAGE_MENU
    hotline.tap(button, user=user)
    assert hotline.api.last(user).text == tr(SHIPPED_MENU)
    hotline.tap(tr("Get help now"), user=user)
    assert HOTLINE in hotline.api.last(user).text
    hotline.tap(tr(ui.BACK), user=user)
    assert hotline.api.last(user).text == tr(SHIPPED_MENU)
    hotline.tap(tr(ui.EXIT), user=user)
    assert hotline.api.visible(user) == []
    assert set(hotline.api.methods()) == {
        "sendMessage",
        "editMessageText",
        "answerCallbackQuery",
        "deleteMessages",
    }


def test_french_keeps_its_accents(hotline: TelegramHotline, tr: Translate) -> None:
    hotline.send("/start", language_code="fr")
    hotline.tap(tr("fr", "Get help now"))
    text = hotline.api.last().text
    assert "à" in text, "no GSM-7 folding on Telegram"


def test_back_and_exit_are_buttons(hotline: TelegramHotline, tr: Translate) -> None:
    hotline.send("/start", language_code=None)
    hotline.tap("English")
    hotline.tap("Back")
    assert hotline.api.last().text == LANGUAGE_MENU
    hotline.tap("Sesotho")
    assert hotline.api.last().text == tr("st", MENU)
    hotline.tap(tr("st", ui.EXIT))
    assert hotline.api.visible() == [], "the quick exit leaves nothing in the chat"
    assert session(hotline) is None


def test_every_tap_is_answered(hotline: TelegramHotline) -> None:
    hotline.send("/start")
    hotline.tap("Change language")
    hotline.tap("English")
    answers = hotline.api.called("answerCallbackQuery")
    assert [a["callback_query_id"] for a in answers] == ["cq5002", "cq5003"]
    assert all("text" not in a for a in answers)


def test_a_tap_on_an_older_message_changes_nothing(hotline: TelegramHotline, tr: Translate) -> None:
    hotline.send("/start")
    first = hotline.api.keyboard()
    stale = hotline.button("Get help now", on=first)
    hotline.send("hello")  # a typed answer: a new message with new buttons
    hotline.post(stale)
    [answer] = hotline.api.called("answerCallbackQuery")
    assert answer["text"] == tr("en", ui.STALE_BUTTON)
    assert hotline.api.last().text != tr("en", HELP)
    assert session(hotline) is not None


def test_a_double_tap_counts_once(hotline: TelegramHotline, tr: Translate) -> None:
    hotline.send("/start", language_code=None)
    first = hotline.button("English")
    second = hotline.button("English")  # same button, a second update before the screen changed
    hotline.post(first)
    hotline.post(second)
    assert hotline.api.last().text == MENU, "the second tap was not taken as option 1 of the menu"
    assert hotline.api.called("answerCallbackQuery")[1]["text"] == tr("en", ui.STALE_BUTTON)


def test_typing_a_number_or_text_on_a_menu_gets_a_hint_about_buttons(
    hotline: TelegramHotline, tr: Translate
) -> None:
    hotline.send("/start")
    hotline.send("7")
    assert hotline.api.last().text == tr("en", ui.TAP_BUTTON) + "\n\n" + MENU
    hotline.send("2")  # typed keys still work
    assert hotline.api.last().text == tr("en", HELP)


def test_a_long_screen_is_split_under_4096_characters(
    start: Callable[..., TelegramHotline],
) -> None:
    number = " ".join(["0800 000 000"] * 700)  # a silly value that makes the help screen long
    hotline = start()
    # Settings refuse a number this long (every screen is checked with 16 characters): set the
    # value the conversations fill in directly, as a deployment with long texts would show.
    hotline.app.state.conversations.values["hotline_number"] = number
    hotline.send("/start")
    hotline.tap("Get help now")
    [edit] = hotline.api.called("editMessageText")
    rest = [p["text"] for p in hotline.api.called("sendMessage")[1:]]
    parts = [edit["text"], *rest]
    assert len(parts) == 3
    assert all(0 < len(p) <= MESSAGE_LIMIT for p in parts)
    assert " ".join(parts) == HELP.format(hotline_number=number)
    assert "reply_markup" not in edit, "the menu's buttons are gone from the first part"


# --- typed answers, events, privacy -----------------------------------------------------------


def test_a_typed_report_becomes_a_case_with_no_telegram_id_anywhere(
    tmp_path: Path,
    router: respx.MockRouter,
    database_url: str,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    starts = starter(tmp_path, router, database_url)
    start = next(starts)
    try:
        hotline = start()
        tr = translate()
        hotline.send("/start", language_code="fr", user=OTHER)
        hotline.tap(tr("fr", "Report something"), user=OTHER)
        assert hotline.api.last(OTHER).text == tr("fr", "Say in a few words what happens.")
        assert labels(hotline, OTHER) == [tr("fr", ui.BACK), tr("fr", ui.EXIT)]
        hotline.send(f"Mon voisin {USER} garde des enfants au travail", user=OTHER)
        with Session(engine) as db:
            [case] = db.exec(select(Case)).all()
        assert case.channel == "telegram"
        assert case.contact == pseudonym(PSEUDONYM_KEY, "telegram", str(OTHER))
        thanks = tr("fr", "Thank you. Your reference: {reference}.")
        assert hotline.api.last(OTHER).text == thanks.format(reference=case.reference)
        assert_no_telegram_ids(database_text(engine), caplog.text)
        assert_no_token(caplog.text)
    finally:
        next(starts, None)


def test_a_typed_reply_answers_a_free_text_question(
    hotline: TelegramHotline, tr: Translate
) -> None:
    hotline.send("/start")
    hotline.tap("Report something")
    hotline.send("   ")
    assert hotline.api.last().text.startswith(tr("en", ui.TYPE_OR_TAP) + "\n\n")


def test_a_message_to_a_new_chat_starts_a_conversation(hotline: TelegramHotline) -> None:
    hotline.send("Hello?", language_code="en")
    assert hotline.api.last().text == MENU


def test_each_chat_has_its_own_conversation(hotline: TelegramHotline, tr: Translate) -> None:
    hotline.send("/start", language_code="en")
    hotline.send("/start", language_code="fr", user=OTHER)
    hotline.tap("Get help now")
    hotline.tap(tr("fr", "Get help now"), user=OTHER)
    assert hotline.api.last().text == tr("en", HELP)
    assert hotline.api.last(OTHER).text == tr("fr", HELP)


def test_group_chats_are_ignored(hotline: TelegramHotline) -> None:
    hotline.send("/start", chat_type="group")
    hotline.send("hello", chat_type="supergroup")
    assert hotline.api.methods() == []


# --- language ----------------------------------------------------------------------------------


def test_language_command_changes_the_language_and_it_is_remembered(
    hotline: TelegramHotline, tr: Translate
) -> None:
    hotline.send("/start", language_code="en")
    hotline.send("/language")
    assert hotline.api.last().text == LANGUAGE_MENU
    hotline.tap("Lingala")
    assert hotline.api.last().text == tr("ln", MENU)
    hotline.tap(tr("ln", "Get help now"))
    # The person chose Lingala: a later /start keeps it, whatever Telegram's language says.
    hotline.send("/start", language_code="en")
    assert hotline.api.last().text == tr("ln", MENU)
    stored = record(hotline)
    assert stored is not None and stored.lang == "ln"


# --- quick exit ----------------------------------------------------------------------------------


def test_exit_deletes_the_conversation_s_messages(hotline: TelegramHotline) -> None:
    hotline.send("/start")
    hotline.send("7")
    hotline.tap("Report something")
    hotline.send("something I typed")
    every = {m.message_id for m in hotline.api.visible()}
    assert len(every) == 6  # /start, menu, "7", hint + menu, the typed text, the end screen
    hotline.send("/exit")
    [deleted] = hotline.api.called("deleteMessages")
    assert set(json.loads(deleted["message_ids"])) >= every
    assert deleted["chat_id"] == str(USER)
    assert hotline.api.visible() == []
    assert session(hotline) is None and record(hotline) is None, "nothing kept"


def test_exit_by_button_and_by_typing_0(hotline: TelegramHotline) -> None:
    hotline.send("/start")
    hotline.tap("Exit")
    assert hotline.api.visible() == []
    hotline.send("/start")
    hotline.send("0")
    assert hotline.api.visible() == []
    assert len(hotline.api.called("deleteMessages")) == 2
    assert hotline.api.methods()[-1] == "deleteMessages", "nothing is sent after the exit"


def test_exit_deletes_at_most_100_ids_per_call_and_keeps_a_bounded_list(
    hotline: TelegramHotline,
) -> None:
    hotline.send("/start")
    for _ in range(MAX_MESSAGES):
        hotline.send("7")
    stored = record(hotline)
    assert stored is not None and len(stored.messages) == MAX_MESSAGES
    hotline.send("/exit")
    calls = hotline.api.called("deleteMessages")
    assert [len(json.loads(c["message_ids"])) for c in calls] == [100, 100]


def test_the_record_keeps_the_newest_ids() -> None:
    chat = ChatRecord()
    for message_id in range(MAX_MESSAGES + 10):
        chat.remember(message_id)
    assert chat.messages == list(range(10, MAX_MESSAGES + 10))
    assert ChatRecord.from_dict({"messages": ["x", 3], "screen": "?", "lang": 5}) == ChatRecord(
        messages=[3]
    )


# --- what the bot does not take -----------------------------------------------------------------

MEDIA: dict[str, Any] = {
    "photo": [{"file_id": "p1", "file_unique_id": "u1", "width": 9, "height": 9}],
    "voice": {"file_id": "v1", "file_unique_id": "u2", "duration": 3},
    "document": {"file_id": "d1", "file_unique_id": "u3"},
    "sticker": {
        "file_id": "s1",
        "file_unique_id": "u4",
        "width": 9,
        "height": 9,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
    },
    "video": {"file_id": "m1", "file_unique_id": "u5", "width": 9, "height": 9, "duration": 3},
    "location": {"latitude": -5.04, "longitude": 18.82},
}


@pytest.mark.parametrize("kind", list(MEDIA))
def test_photos_voice_notes_files_are_refused_kindly_and_nothing_kept(
    hotline: TelegramHotline, tr: Translate, kind: str
) -> None:
    hotline.send("/start", language_code="fr")
    before = session(hotline)
    response = hotline.post(hotline.message(None, language_code="fr", **{kind: MEDIA[kind]}))
    assert response.status_code == 200
    assert hotline.api.last().text == tr("fr", ui.MEDIA_REFUSED)
    assert session(hotline) == before, "the conversation did not move"
    assert "file_id" not in str(record(hotline))
    menu = hotline.api.keyboard()
    hotline.tap(tr("fr", "Get help now"))  # the menu's buttons still work
    assert hotline.api.chats[USER][menu.message_id].text == tr("fr", HELP)


# --- hooks for later commands -------------------------------------------------------------------


def test_commands_and_start_payloads_can_be_added(hotline: TelegramHotline) -> None:
    bot = hotline.app.state.telegram
    seen: list[tuple[str, object]] = []

    async def later(chat: Chat, args: list[str]) -> None:
        seen.append(("later", args))
        await bot.say(chat, ui.BUSY)

    async def invite(chat: Chat, payload: str) -> bool:
        seen.append(("payload", payload))
        return payload == "AMB-1"

    bot.command("later", later)
    bot.start_payloads.append(invite)
    hotline.send("/later K7QM-46")
    hotline.send("/start AMB-1")
    hotline.send("/start other")
    assert seen == [("later", ["K7QM-46"]), ("payload", "AMB-1"), ("payload", "other")]
    assert hotline.api.methods() == ["sendMessage", "sendMessage"]
    assert hotline.api.last().text == MENU, "an unknown payload opens the menu"
