"""Telegram: full orthography, options then navigation as buttons, 4096 characters a message."""

from __future__ import annotations

import pytest

from bot.channels.telegram import (
    CALLBACK_DATA_LIMIT,
    MESSAGE_LIMIT,
    TelegramRenderer,
    split_message,
)
from bot.content import Content
from bot.engine.state import Choice, Turn
from bot.i18n.gsm7 import LANGUAGES
from tests.channels.conftest import BACK, EXIT, long_menu
from tests.channels.test_ussd import english, shipped_turns


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
    fine = Turn(text="Pick", lang="en", options=(Choice("k" * CALLBACK_DATA_LIMIT, "Fine"),))
    assert renderer.check(fine) is None
    # 22 'š' are 44 bytes in UTF-8 plus 21 ASCII: 65 bytes though only 43 characters.
    wide = "š" * 22 + "k" * 21
    too_long = Turn(text="Pick", lang="st", options=(Choice(wide, "Too long"),))
    problem = renderer.check(too_long)
    assert problem is not None and "64 bytes" in problem


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_shipped_screen_can_be_sent(shipped_content: Content, lang: str) -> None:
    renderer = TelegramRenderer(shipped_content.tr)
    for where, turn_lang, turn in shipped_turns(shipped_content):
        if turn_lang == lang:
            assert renderer.check(turn) is None, where
            assert len(renderer.render(turn).text) <= MESSAGE_LIMIT, where
