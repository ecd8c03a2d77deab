"""Telegram: full orthography, options then navigation as buttons, 4096 characters a message."""

from __future__ import annotations

import pytest

from bot.channels.telegram.render import (
    CALLBACK_DATA_LIMIT,
    KEY_LIMIT,
    MESSAGE_LIMIT,
    SCREENS,
    TelegramRenderer,
    callback_data,
    keyboard,
    language_of,
    parse_callback,
    split_message,
)
from bot.content.files import Content
from bot.engine.state import Choice, Turn
from bot.i18n import ui
from bot.i18n.gsm7 import LANGUAGES
from tests.channels.conftest import BACK, EXIT, long_menu
from tests.channels.ussd.test_render import english, shipped_turns


def test_full_orthography_is_kept() -> None:
    renderer = TelegramRenderer(english)
    for lang, text in [
        ("ln", "Pɔna monɔkɔ na yo: tɛ"),
        ("st", "Ithute matšoao"),
        ("fr", "Êtes-vous en sécurité\u202f? « Aide » – ça va"),
    ]:
        assert renderer.render(Turn(text=text, lang=lang, end=True)).text == text


def test_buttons_are_the_options_then_the_navigation_with_labels_unfolded() -> None:
    renderer = TelegramRenderer(english)
    options = (Choice("1", "Koyebisa likambo"), Choice("2", "Monɔkɔ mosusu"))
    turn = Turn(text="Pɔna:", lang="ln", options=options, navigation=(BACK, EXIT))
    screen = renderer.render(turn)
    assert screen.buttons == (*options, BACK, EXIT)
    assert screen.text == "Pɔna:", "options are buttons, not lines of text"
    assert not screen.end and screen.pages == 1


def test_a_long_menu_is_one_message_with_every_option_as_a_button() -> None:
    screen = TelegramRenderer(english).render(long_menu(), 3)
    assert screen.pages == 1 and screen.page == 0
    assert [b.key for b in screen.buttons] == [*map(str, range(1, 16)), "00", "0"]
    assert "98" not in [b.key for b in screen.buttons]


def test_a_notice_comes_before_the_text() -> None:
    turn = Turn(text="Main menu", lang="en", notice="Please reply with one of the numbers shown.")
    text = TelegramRenderer(english).render(turn).text
    assert text == "Please reply with one of the numbers shown.\n\nMain menu"


def test_an_end_screen_has_no_buttons() -> None:
    screen = TelegramRenderer(english).render(Turn(text="Bye", lang="en", end=True))
    assert screen.end and screen.buttons == ()


def test_a_short_message_is_one_chunk() -> None:
    assert split_message("Hello") == ["Hello"]
    assert split_message("") == [""]
    assert split_message("x" * MESSAGE_LIMIT) == ["x" * MESSAGE_LIMIT]


def test_split_prefers_line_breaks() -> None:
    lines = [f"Line {i:04d} " + "a" * 80 for i in range(100)]
    text = "\n".join(lines)
    chunks = split_message(text)
    assert len(chunks) > 1
    assert all(len(c) <= MESSAGE_LIMIT for c in chunks)
    assert "\n".join(chunks) == text, "split only at line breaks, nothing lost"
    assert all(c.startswith("Line ") for c in chunks), "no line is split across messages"


def test_split_falls_back_to_spaces_and_keeps_every_word() -> None:
    words = [f"w{i}" for i in range(3000)]
    text = " ".join(words)
    chunks = split_message(text)
    assert len(chunks) > 1
    assert all(0 < len(c) <= MESSAGE_LIMIT for c in chunks)
    assert " ".join(chunks) == text
    assert [w for c in chunks for w in c.split(" ")] == words, "no word is broken"


def test_a_10000_character_word_is_cut_hard_and_kept_whole() -> None:
    word = "".join(chr(ord("a") + i % 26) for i in range(10_000))
    chunks = split_message(word)
    assert [len(c) for c in chunks] == [MESSAGE_LIMIT, MESSAGE_LIMIT, 10_000 - 2 * MESSAGE_LIMIT]
    assert "".join(chunks) == word


def test_non_latin_text_is_kept_character_for_character() -> None:
    text = ("Lisɔlɔ na yo ɛzali na motuya. " * 300).strip()
    chunks = split_message(text)
    assert all(len(c) <= MESSAGE_LIMIT for c in chunks)
    assert " ".join(chunks) == text


@pytest.mark.parametrize(
    "text",
    ["x" * MESSAGE_LIMIT + "\n", "x" * MESSAGE_LIMIT + "   \n  ", "a" + " " * 5000 + "b"],
)
def test_split_never_yields_an_empty_message(text: str) -> None:
    # Telegram refuses an empty message: whitespace at a cut must not become one.
    chunks = split_message(text)
    assert all(chunk.strip() for chunk in chunks), [len(c) for c in chunks]
    assert all(len(c) <= MESSAGE_LIMIT for c in chunks)
    assert "".join(chunks).replace(" ", "") == text.replace(" ", "").strip()


def test_check_flags_callback_data_over_64_bytes() -> None:
    renderer = TelegramRenderer(english)
    # A button's data is "<screen>:<key>": the key has what the screen number leaves.
    assert len(f"{SCREENS - 1}:") + KEY_LIMIT == CALLBACK_DATA_LIMIT
    fine = Turn(text="Pick", lang="en", options=(Choice("k" * KEY_LIMIT, "Fine"),))
    assert renderer.check(fine) is None
    assert len(callback_data(SCREENS - 1, "k" * KEY_LIMIT).encode()) == CALLBACK_DATA_LIMIT
    # 22 'š' are 44 bytes in UTF-8 plus 14 ASCII: 58 bytes though only 36 characters.
    wide = "š" * 22 + "k" * 14
    too_long = Turn(text="Pick", lang="st", options=(Choice(wide, "Too long"),))
    problem = renderer.check(too_long)
    assert problem is not None and "64 bytes" in problem


def test_callback_data_round_trips_and_foreign_data_is_refused() -> None:
    assert callback_data(7, "00") == "7:00"
    assert callback_data(SCREENS + 3, "1") == "3:1", "the screen number wraps"
    assert parse_callback("7:00") == (7, "00")
    assert parse_callback("12:a:b") == (12, "a:b")
    for foreign in (None, "", "1", ":1", "x:1", "7:", "-1:2"):
        assert parse_callback(foreign) is None, foreign


def test_keyboard_has_a_row_per_option_then_back_and_exit_together() -> None:
    buttons = (Choice("1", "Koyebisa likambo"), Choice("2", "Monɔkɔ mosusu"), BACK, EXIT)
    markup = keyboard(buttons, 41)
    assert markup is not None
    rows = [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard]
    assert rows == [
        [("Koyebisa likambo", "41:1")],
        [("Monɔkɔ mosusu", "41:2")],
        [("Back", "41:00"), ("Exit", "41:0")],
    ]
    assert keyboard((), 1) is None


@pytest.mark.parametrize(
    ("code", "lang"),
    [("en", "en"), ("en-GB", "en"), ("FR", "fr"), ("fr-CD", "fr"), ("ln", "ln"), ("st", "st")],
)
def test_language_of_a_telegram_language_code(code: str, lang: str) -> None:
    assert language_of(code) == lang


@pytest.mark.parametrize("code", [None, "", "de", "pt-BR", "sw", "zu"])
def test_other_language_codes_have_no_language(code: str | None) -> None:
    assert language_of(code) is None


def test_the_live_bot_speaks_of_buttons_in_its_hints() -> None:
    hint = Turn(text="Main menu", lang="en", notice=ui.HINT_CHOICE, options=(Choice("1", "A"),))
    typed = Turn(text="Say it", lang="en", notice=ui.HINT_TEXT, expects="text")
    other = Turn(text="Say it", lang="en", notice="Your text was cut.", expects="text")
    live = TelegramRenderer(english, taps=True)
    assert live.render(hint).text == f"{ui.TAP_BUTTON}\n\nMain menu"
    assert live.render(typed).text == f"{ui.TYPE_OR_TAP}\n\nSay it"
    assert live.render(other).text == "Your text was cut.\n\nSay it"
    # The simulator shows the keys with the labels: its hint about numbers stays.
    assert TelegramRenderer(english).render(hint).text == f"{ui.HINT_CHOICE}\n\nMain menu"


def test_the_renderer_notes_the_language_it_showed() -> None:
    renderer = TelegramRenderer(english)
    assert renderer.lang is None
    renderer.render(Turn(text="Pɔna", lang="ln"))
    assert renderer.lang == "ln"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_shipped_screen_can_be_sent(shipped_content: Content, lang: str) -> None:
    renderer = TelegramRenderer(shipped_content.tr)
    for where, turn_lang, turn in shipped_turns(shipped_content):
        if turn_lang == lang:
            assert renderer.check(turn) is None, where
            assert len(renderer.render(turn).text) <= MESSAGE_LIMIT, where
