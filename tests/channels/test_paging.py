"""Paging: a long menu splits into screens a basic phone shows whole, navigation always visible."""

from __future__ import annotations

import re

import pytest

from bot.channels.paging import _cut, line, paginate
from bot.engine.state import Choice, Turn
from bot.i18n.gsm7 import USSD_LIMIT_GSM7, fits_ussd, ussd_length
from tests.channels.conftest import BACK, EXIT, LONG_LABELS, NAV_LINE, long_menu, option_lines


def pages_of(turn: Turn, *, cut: bool = True) -> list[str]:
    return paginate(turn, fits_ussd, more="More", previous="Back", cut=cut)


def test_line_is_key_then_label() -> None:
    assert line(Choice("1", "English")) == "1 English"
    assert line(Choice("00", "Back")) == "00 Back"


def test_a_menu_that_fits_is_one_page_with_navigation_last() -> None:
    turn = Turn(
        text="Choose your language:",
        lang="en",
        options=(Choice("1", "English"), Choice("2", "Francais")),
        navigation=(BACK, EXIT),
    )
    assert pages_of(turn) == ["Choose your language:\n1 English\n2 Francais\n00 Back\n0 Exit"]


def test_a_screen_without_options_is_one_page() -> None:
    turn = Turn(text="Say in a few words what happens.", lang="en", navigation=(EXIT,))
    assert pages_of(turn) == ["Say in a few words what happens.\n0 Exit"]


def test_a_long_menu_splits_into_pages_that_each_fit() -> None:
    pages = pages_of(long_menu())
    assert len(pages) > 1
    for page in pages:
        assert ussd_length(page) <= USSD_LIMIT_GSM7, page


def test_only_the_first_page_carries_the_question() -> None:
    pages = pages_of(long_menu())
    assert pages[0].split("\n")[0] == "Which service do you need?"
    for page in pages[1:]:
        assert "Which service do you need?" not in page
        assert page.split("\n")[0].startswith(tuple("123456789"))


def test_every_page_but_the_last_offers_more_and_every_page_back_and_exit() -> None:
    pages = pages_of(long_menu())
    for page in pages[:-1]:
        assert page.split("\n")[-3:] == ["98 More", "00 Back", "0 Exit"], page
    assert pages[-1].split("\n")[-2:] == ["00 Back", "0 Exit"]
    assert "98 More" not in pages[-1]


def test_every_option_appears_exactly_once_across_pages_in_order() -> None:
    pages = pages_of(long_menu())
    expected = [f"{i} {label}" for i, label in enumerate(LONG_LABELS, start=1)]
    assert option_lines(pages) == expected


def test_later_pages_offer_back_to_the_previous_page_even_without_back_on_the_menu() -> None:
    pages = pages_of(long_menu(back=False))
    assert pages[0].split("\n")[-2:] == ["98 More", "0 Exit"]
    assert "00 Back" not in pages[0]
    for page in pages[1:]:
        assert "00 Back" in page.split("\n")
        assert page.split("\n")[-1] == "0 Exit"
    expected = [f"{i} {label}" for i, label in enumerate(LONG_LABELS, start=1)]
    assert option_lines(pages) == expected


def test_navigation_labels_come_from_the_caller() -> None:
    pages = paginate(long_menu(), fits_ussd, more="Suite", previous="Retour")
    assert "98 Suite" in pages[0].split("\n")
    assert "00 Retour" in pages[1].split("\n")


def test_a_short_notice_is_shown_above_the_text() -> None:
    turn = Turn(
        text="Main menu",
        lang="en",
        options=(Choice("1", "Get help"),),
        navigation=(EXIT,),
        notice="Please reply with one of the numbers shown.",
    )
    assert pages_of(turn) == [
        "Please reply with one of the numbers shown.\nMain menu\n1 Get help\n0 Exit"
    ]


HINT = "Please reply with one of the numbers shown."


def test_on_a_full_menu_the_hint_comes_with_the_question_and_the_options_page() -> None:
    options = tuple(Choice(str(i), f"Option number {i}") for i in range(1, 7))
    text = "Anti-trafficking hotline. Free and anonymous. Choose:"
    assert len(pages_of(Turn(text, "en", options, (BACK, EXIT)))) == 1, "fits without the hint"
    pages = pages_of(Turn(text, "en", options, (BACK, EXIT), notice=HINT))
    assert pages[0].split("\n")[:2] == [HINT, text], "the hint never replaces the question"
    assert option_lines(pages) == [f"{i} Option number {i}" for i in range(1, 7)]
    assert all(fits_ussd(page) for page in pages)


def test_a_notice_is_dropped_rather_than_cutting_a_screen_without_options() -> None:
    text = "Thank you. Your reference is K7QM-42. " + "Keep it safe and quote it later. " * 4
    turn = Turn(text=text.strip(), lang="en", end=True)
    assert fits_ussd(turn.text)
    noticed = Turn(
        text=turn.text, lang="en", end=True, notice="Your text was cut to 500 characters."
    )
    assert pages_of(noticed) == [turn.text], "the reference must not be cut for a hint"


def test_a_long_menu_with_a_hint_shows_the_hint_the_question_and_every_option() -> None:
    pages = pages_of(long_menu(notice=HINT))
    assert pages[0].split("\n")[:2] == [HINT, "Which service do you need?"]
    expected = [f"{i} {label}" for i, label in enumerate(LONG_LABELS, start=1)]
    assert option_lines(pages) == expected
    assert all(fits_ussd(page) for page in pages)


def test_an_over_long_single_screen_is_cut_with_an_ellipsis() -> None:
    turn = Turn(text="word " * 60, lang="en", end=True)
    (page,) = pages_of(turn)
    assert fits_ussd(page)
    assert page.endswith("...")
    assert page.startswith("word word")


def test_cut_false_returns_over_long_pages_whole_for_measurement() -> None:
    text = "word " * 60
    turn = Turn(text=text.strip(), lang="en", end=True)
    (page,) = pages_of(turn, cut=False)
    assert page == text.strip()
    assert ussd_length(page) > USSD_LIMIT_GSM7


def test_an_option_too_long_for_any_page_stands_alone() -> None:
    huge = "x" * 300
    turn = Turn(
        text="Pick one",
        lang="en",
        options=(Choice("1", "Short"), Choice("2", huge), Choice("3", "Also short")),
        navigation=(EXIT,),
    )
    measured = pages_of(turn, cut=False)
    assert any(f"2 {huge}" in page for page in measured), "kept whole for validation to flag"
    cut = pages_of(turn)
    assert all(fits_ussd(page) for page in cut)
    assert "3 Also short" in "\n".join(cut)


@pytest.mark.parametrize("limit", [10, 50, 182])
def test_cut_result_fits_and_ends_with_an_ellipsis(limit: int) -> None:
    text = "The quick brown fox jumps over the lazy dog. " * 10

    def fits(candidate: str) -> bool:
        return len(candidate) <= limit

    result = _cut(text, fits)
    assert fits(result)
    assert result.endswith("...")
    assert text.startswith(result[:-3])
    assert len(result) >= limit - 4, "cuts no more than it must (plus trailing space)"


LONG_TEXT = (
    "Trafficking in persons is when someone recruits, moves or holds a person by force, lies "
    "or threats, to exploit them: forced work, sex, marriage or begging. For a child under 18, "
    "no force or lies are needed: exploiting a child is always trafficking."
)


def test_a_long_text_is_split_between_words_then_the_options_follow() -> None:
    turn = Turn(
        text=LONG_TEXT,
        lang="en",
        options=(Choice("1", "Other topics"),),
        navigation=(BACK, EXIT),
    )
    pages = pages_of(turn, cut=False)
    assert len(pages) == 2
    assert all(fits_ussd(page) for page in pages)
    assert pages[0].endswith("\n98 More\n00 Back\n0 Exit")
    assert pages[1].endswith("1 Other topics\n00 Back\n0 Exit")
    words = " ".join(p.split("\n98 More")[0].split("\n1 Other")[0] for p in pages).split()
    assert words == LONG_TEXT.split(), "every word is shown once, in order"


def test_a_long_text_without_options_pages_too() -> None:
    turn = Turn(text=LONG_TEXT + " " + LONG_TEXT, lang="en", navigation=(BACK, EXIT))
    pages = pages_of(turn, cut=False)
    assert len(pages) >= 2 and all(fits_ussd(page) for page in pages)
    assert pages[-1].endswith("00 Back\n0 Exit") and "98 More" not in pages[-1]


def test_a_text_that_fits_alone_goes_first_when_its_options_do_not_fit_beside_it() -> None:
    text = "W" * 150
    turn = Turn(
        text=text,
        lang="en",
        options=(Choice("1", "Ask for a call back"), Choice("2", "Other topics")),
        navigation=(BACK, EXIT),
    )
    pages = pages_of(turn, cut=False)
    assert pages == [
        f"{text}\n98 More\n00 Back\n0 Exit",
        "1 Ask for a call back\n2 Other topics\n00 Back\n0 Exit",
    ]


def test_an_end_screen_is_never_paged() -> None:
    turn = Turn(text=LONG_TEXT, lang="en", end=True, expects="nothing")
    (page,) = pages_of(turn)
    assert fits_ussd(page) and page.endswith("...")


def text_of(page: str) -> str:
    """A page without its option and navigation lines."""
    return "\n".join(row for row in page.split("\n") if not re.match(r"^\d+ ", row))


def test_a_long_text_pages_after_a_sentence_when_that_costs_no_page() -> None:
    turn = Turn(LONG_TEXT, "en", (Choice("1", "Other topics"),), (BACK, EXIT))
    pages = pages_of(turn, cut=False)
    assert len(pages) == 2
    assert text_of(pages[0]).endswith("marriage or begging.")
    assert text_of(pages[1]).startswith("For a child under 18")


def test_a_page_ends_between_words_when_no_sentence_ends_near_the_end() -> None:
    text = " ".join(["unbreakable"] * 40)
    pages = pages_of(Turn(text, "en", navigation=(BACK, EXIT)), cut=False)
    assert len(pages) > 1
    assert " ".join(text_of(page) for page in pages).split() == text.split()
    assert all(fits_ussd(page) for page in pages)


@pytest.mark.parametrize("extra", range(0, 20))
def test_no_page_is_navigation_alone(extra: int) -> None:
    """Lengths around a page's edge (58 words and 15 letters gave a page of only "00 Back"
    and "0 Exit"): the last words always go with the navigation."""
    text = "word " * 58 + "x" * extra
    for turn in (
        Turn(text.strip(), "en", navigation=(BACK, EXIT)),
        Turn(text.strip(), "en", options=(Choice("1", "Other topics"),), navigation=(EXIT,)),
    ):
        pages = pages_of(turn)
        for page in pages:
            assert any(not NAV_LINE.match(row) for row in page.split("\n")), pages
            assert fits_ussd(page)
        assert " ".join(text_of(p) for p in pages).split() == text.split()


def test_the_hint_never_stands_alone_above_a_long_text() -> None:
    turn = Turn(LONG_TEXT, "en", (Choice("1", "Other topics"),), (BACK, EXIT), notice=HINT)
    pages = pages_of(turn)
    first = pages[0].split("\n")
    assert first[0] == HINT and first[1].startswith("Trafficking in persons")
    assert all(fits_ussd(page) for page in pages)
