"""USSD: CON/END screens of at most 182 GSM-7 characters, folded the way each language is typed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.channels.ussd.render import UssdRenderer, response
from bot.content.files import Content
from bot.conversation.ports import Screen
from bot.engine.runner import render
from bot.engine.state import Choice, SessionState, Turn
from bot.engine.validate import PLACEHOLDERS
from bot.i18n import ui
from bot.i18n.gsm7 import LANGUAGES, USSD_LIMIT_GSM7, fits_ussd, is_gsm7, ussd_length
from tests.channels.conftest import BACK, EXIT, LONG_LABELS, long_menu, option_lines


def english(lang: str, msgid: str) -> str:
    return msgid


def shipped_turns(content: Content) -> list[tuple[str, str, Turn]]:
    """Every shipped screen in every language, with back offered and worst-case placeholders."""
    turns = []
    for compiled in content.registry.current():
        definition = compiled.loaded.definition
        for name in definition.states:
            for lang in LANGUAGES:
                state = SessionState(compiled.name, compiled.version, name, lang, inputs=["1"])
                turn = render(definition, state, content.tr).format(PLACEHOLDERS)
                turns.append((f"{compiled.name}:{name}", lang, turn))
    return turns


def test_response_continues_with_con_and_closes_with_end() -> None:
    assert response(Screen(text="Main menu\n0 Exit")) == "CON Main menu\n0 Exit"
    assert response(Screen(text="Thank you.", end=True)) == "END Thank you."


def test_render_marks_an_end_screen_as_end() -> None:
    renderer = UssdRenderer(english)
    screen = renderer.render(Turn(text="Call 112.", lang="en", end=True, expects="nothing"))
    assert screen.end and screen.pages == 1
    assert response(screen) == "END Call 112."


def test_french_folds_to_what_a_basic_phone_shows_and_keeps_gsm7_accents() -> None:
    renderer = UssdRenderer(english)
    turn = Turn(
        text="Êtes-vous en danger\u202f? «\u00a0Aide\u00a0» – réponse",
        lang="fr",
        options=(Choice("1", "Oui, j’ai besoin d’aide"), Choice("2", "Non, ça va")),
        navigation=(Choice("0", "Quitter"),),
    )
    text = renderer.render(turn).text
    assert text == (
        'Etes-vous en danger ? " Aide " - réponse\n'
        "1 Oui, j'ai besoin d'aide\n"
        "2 Non, ca va\n"
        "0 Quitter"
    )
    assert is_gsm7(text)


def test_lingala_open_vowels_and_tones_fold_to_plain_letters() -> None:
    renderer = UssdRenderer(english)
    turn = Turn(
        text="Pɔna monɔkɔ na yo:",
        lang="ln",
        options=(Choice("1", "Lisɔ́lɔ"), Choice("2", "Tɛ")),
        navigation=(Choice("0", "Kobima"),),
    )
    assert renderer.render(turn).text == "Pona monoko na yo:\n1 Lisolo\n2 Te\n0 Kobima"


def test_sesotho_s_caron_is_written_s_apostrophe() -> None:
    renderer = UssdRenderer(english)
    turn = Turn(
        text="Tšebeletso ena ha e so qale.",
        lang="st",
        options=(Choice("1", "Ithute matšoao"),),
        navigation=(Choice("0", "Tsoa"),),
    )
    assert renderer.render(turn).text == (
        "Ts'ebeletso ena ha e so qale.\n1 Ithute mats'oao\n0 Tsoa"
    )


def test_an_emoji_in_a_label_becomes_a_question_mark_not_a_ucs2_screen() -> None:
    renderer = UssdRenderer(english)
    turn = Turn(
        text="Choose:",
        lang="en",
        options=(Choice("1", "Help now 🚨"), Choice("2", "Learn 📖 more")),
        navigation=(EXIT,),
    )
    text = renderer.render(turn).text
    assert text == "Choose:\n1 Help now ?\n2 Learn ? more\n0 Exit"
    assert is_gsm7(text), "one emoji must not cut the screen to 80 characters"
    assert renderer.check(turn) is None


def test_a_long_menu_pages_with_translated_more_and_back(tagged_content: Content) -> None:
    renderer = UssdRenderer(tagged_content.tr)
    turn = long_menu("fr")
    first = renderer.render(turn, 0)
    assert first.pages > 1 and first.page == 0
    assert "98 FR More" in first.text.split("\n")
    second = renderer.render(turn, 1)
    assert second.page == 1
    # Later pages: "00" turns back a page, labelled by the channel in the person's language.
    assert second.text.split("\n")[-3:] == ["98 FR More", "00 FR Back", "0 Exit"]
    last = renderer.render(turn, first.pages - 1)
    assert "98 FR More" not in last.text
    assert last.text.split("\n")[-2:] == ["00 FR Back", "0 Exit"]


def test_later_pages_go_back_in_the_person_s_language(tagged_content: Content) -> None:
    renderer = UssdRenderer(tagged_content.tr)
    turn = long_menu("ln", back=False)
    pages = renderer.pages(turn)
    assert all("00 LN Back" in page.split("\n") for page in pages[1:])
    assert pages[0].split("\n")[-2:] == ["98 LN More", "0 Exit"]


def test_every_page_of_a_long_menu_fits_and_shows_each_option_once() -> None:
    renderer = UssdRenderer(english)
    pages = renderer.pages(long_menu())
    assert all(ussd_length(page) <= USSD_LIMIT_GSM7 for page in pages)
    expected = [f"{i} {label}" for i, label in enumerate(LONG_LABELS, start=1)]
    assert option_lines(pages) == expected


def test_a_page_number_past_the_end_shows_the_last_page() -> None:
    renderer = UssdRenderer(english)
    pages = renderer.pages(long_menu())
    screen = renderer.render(long_menu(), 99)
    assert screen.page == len(pages) - 1
    assert screen.text == pages[-1]


def test_check_names_the_page_and_its_size_for_an_over_long_end_screen() -> None:
    renderer = UssdRenderer(english)
    turn = Turn(text="x" * 200, lang="en", end=True, expects="nothing")
    problem = renderer.check(turn)
    assert problem is not None
    assert "page 1 is 200/182" in problem
    # What a person would get is still one screen that fits, cut with an ellipsis.
    screen = renderer.render(turn)
    assert fits_ussd(screen.text) and screen.text.endswith("...")


def test_check_measures_after_folding() -> None:
    renderer = UssdRenderer(english)
    # 182 characters of 'ɛ' fold to 182 'e': fits; measured unfolded it would be UCS-2 (80).
    assert renderer.check(Turn(text="ɛ" * 182, lang="ln", end=True)) is None
    assert renderer.check(Turn(text="ɛ" * 183, lang="ln", end=True)) is not None


def test_check_flags_an_option_too_long_for_any_page() -> None:
    renderer = UssdRenderer(english)
    turn = Turn(
        text="Pick",
        lang="en",
        options=(Choice("1", "y" * 190), Choice("2", "Fine")),
        navigation=(BACK, EXIT),
    )
    problem = renderer.check(turn)
    assert problem is not None and "/182" in problem


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_shipped_screen_fits_with_and_without_its_hint(
    shipped_content: Content, lang: str
) -> None:
    renderer = UssdRenderer(shipped_content.tr)
    checked = 0
    for where, turn_lang, turn in shipped_turns(shipped_content):
        if turn_lang != lang:
            continue
        assert renderer.check(turn) is None, (where, lang)
        if not turn.end:
            hinted = replace(turn, notice=shipped_content.tr(lang, ui.HINT_CHOICE))
            assert renderer.check(hinted) is None, (where, lang)
            assert all(fits_ussd(p) for p in renderer.pages(hinted))
        checked += 1
    assert checked >= 7


@pytest.mark.parametrize(
    ("lang", "start"),
    [
        ("en", "Helpline. You need not"),
        ("fr", "Helpline. Aide sans"),
        ("ln", "Helpline. Bakotuna kombo"),
        ("st", "Helpline. Thuso ntle"),
    ],
)
def test_the_shipped_main_menu_is_one_gsm7_screen_in_each_language(
    shipped_content: Content, lang: str, start: str
) -> None:
    compiled = shipped_content.registry.get("main")
    assert compiled is not None
    state = SessionState("main", compiled.version, "menu", lang, inputs=["1"])
    turn = render(compiled.loaded.definition, state, shipped_content.tr)
    screen = UssdRenderer(shipped_content.tr).render(turn.format({"hotline_name": "Helpline"}))
    assert screen.pages == 1
    assert screen.text.startswith(start)
    assert is_gsm7(screen.text) and ussd_length(screen.text) <= USSD_LIMIT_GSM7
    assert screen.text.split("\n")[-1].startswith("0 ")
    assert response(screen).startswith("CON ")
