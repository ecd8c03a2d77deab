"""Fit meters: a text and the whole screen it is on, measured as each channel shows it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content.files import Content, load_file
from bot.content.fit import screen_fit, text_fit
from bot.engine.loader import LoadedFlow, load_text
from tests.conftest import ROOT

MENU = """\
flow: demo
start: menu
states:
  menu:
    type: menu
    text: "{text}"
    options:
      - {{label: "{label}", next: bye}}
  bye:
    type: end
    text: "{end}"
"""


def demo(text: str = "Hello", label: str = "Go on", end: str = "Bye") -> LoadedFlow:
    return load_text(MENU.format(text=text, label=label, end=end), "demo.yaml")


@pytest.fixture(scope="module")
def main_flow() -> LoadedFlow:
    return load_file(Path(ROOT / "flows" / "main.yaml"))


def test_a_text_is_measured_after_folding_in_its_language() -> None:
    fit = text_fit("Mbɔ́tɛ “bandeko”", "ln")
    assert fit.folded == 'Mbote "bandeko"'
    assert (fit.ussd_length, fit.ussd_limit, fit.sms_parts) == (15, 182, 1)
    assert fit.telegram_length == 16  # Telegram keeps the orthography
    assert fit.fits and fit.gsm7 and fit.lost == ""


def test_a_character_a_basic_phone_cannot_show_is_named() -> None:
    fit = text_fit("Tsamaea ✓ hantle", "st")
    assert fit.lost == "✓"
    assert "?" in fit.folded


def test_sesotho_s_caron_costs_two_characters_after_folding() -> None:
    assert text_fit("šoa", "st").ussd_length == 4  # s'oa


def test_a_long_text_alone_overflows_and_needs_sms_parts() -> None:
    fit = text_fit("a" * 200, "en")
    assert not fit.fits
    assert fit.sms_parts == 2


def test_the_screen_meter_counts_options_and_navigation_not_just_the_sentence(
    shipped_content: Content, main_flow: LoadedFlow
) -> None:
    fit = screen_fit(main_flow, "language", "en", shipped_content.tr)
    assert fit is not None
    text = text_fit("Choose your language:", "en")
    assert fit.ussd.length > text.ussd_length + len("1 English\n2 Francais\n3 Lingala")
    assert fit.fits and fit.ussd.pages == 1


def test_a_menu_text_too_long_for_one_page_says_how_many_pages(
    shipped_content: Content,
) -> None:
    fit = screen_fit(demo(text="Word " * 60), "menu", "en", shipped_content.tr)
    assert fit is not None
    assert fit.ussd.fits and fit.ussd.pages >= 2
    assert fit.ussd.length <= 182


def test_an_option_longer_than_a_page_overflows_in_red(shipped_content: Content) -> None:
    fit = screen_fit(demo(label="x" * 190), "menu", "st", shipped_content.tr)
    assert fit is not None
    assert not fit.ussd.fits and not fit.fits
    assert fit.ussd.problem is not None and "after folding" in fit.ussd.problem


def test_an_end_screen_cannot_page_so_a_long_one_overflows(shipped_content: Content) -> None:
    fit = screen_fit(demo(end="Thanks " * 30), "bye", "en", shipped_content.tr)
    assert fit is not None
    assert not fit.ussd.fits
    assert fit.ussd.length > 182 and fit.ussd.pages == 1
    assert fit.channels["telegram"].fits


def test_placeholders_are_measured_at_their_worst_case(shipped_content: Content) -> None:
    short = screen_fit(demo(end="Bye"), "bye", "en", shipped_content.tr)
    filled = screen_fit(demo(end="Bye {hotline_name}"), "bye", "en", shipped_content.tr)
    assert short is not None and filled is not None
    assert filled.ussd.length == short.ussd.length + 21


def test_each_language_is_measured_with_its_own_translation(shipped_content: Content) -> None:
    def tr(lang: str, msgid: str) -> str:
        return "Lentsoe le lelelele haholo " * 8 if (lang, msgid) == ("st", "Bye") else msgid

    english_fit = screen_fit(demo(), "bye", "en", tr)
    sesotho = screen_fit(demo(), "bye", "st", tr)
    assert english_fit is not None and sesotho is not None
    assert english_fit.fits and not sesotho.fits


def test_an_unknown_state_has_no_meter(shipped_content: Content) -> None:
    assert screen_fit(demo(), "nowhere", "en", shipped_content.tr) is None


def test_the_screen_names_characters_a_basic_phone_shows_as_a_question_mark(
    shipped_content: Content,
) -> None:
    fit = screen_fit(demo(text="Hello ✓", label="Go ☺"), "menu", "en", shipped_content.tr)
    assert fit is not None
    assert fit.lost == "✓☺"
