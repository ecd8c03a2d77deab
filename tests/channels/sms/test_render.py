"""SMS: one folded GSM-7 text per screen, paged so no reply costs more than two SMS parts."""

from __future__ import annotations

import pytest

from bot.channels.sms.render import MAX_PARTS, SmsRenderer, fits_sms
from bot.content.files import Content
from bot.engine.state import Choice, Turn
from bot.i18n.gsm7 import LANGUAGES, is_gsm7, sms_parts
from tests.channels.conftest import EXIT, option_lines
from tests.channels.ussd.test_render import english, shipped_turns

LABELS = [f"Service number {i} with a fairly long description" for i in range(1, 13)]


def big_menu(lang: str = "en") -> Turn:
    return Turn(
        text="Which service do you need?",
        lang=lang,
        options=tuple(Choice(str(i), label) for i, label in enumerate(LABELS, start=1)),
        navigation=(Choice("00", "Back"), EXIT),
    )


def test_two_parts_fit_and_three_do_not() -> None:
    assert fits_sms("x" * 160)
    assert fits_sms("x" * 306)
    assert not fits_sms("x" * 307)
    assert sms_parts("x" * 307) == 3


def test_a_short_menu_is_one_text_in_one_part() -> None:
    renderer = SmsRenderer(english)
    turn = Turn(
        text="Choose your language:",
        lang="en",
        options=(Choice("1", "English"), Choice("2", "Francais")),
        navigation=(EXIT,),
    )
    screen = renderer.render(turn)
    assert screen.text == "Choose your language:\n1 English\n2 Francais\n0 Exit"
    assert screen.pages == 1 and not screen.end
    assert sms_parts(screen.text) == 1


def test_a_screen_that_would_need_three_parts_pages_instead() -> None:
    renderer = SmsRenderer(english)
    turn = big_menu()
    whole = "\n".join(
        [turn.text, *(f"{c.key} {c.label}" for c in turn.options), "00 Back", "0 Exit"]
    )
    assert sms_parts(whole) >= 3, "the menu in one text would cost three parts or more"
    pages = renderer.pages(turn)
    assert len(pages) > 1
    for page in pages:
        assert sms_parts(page) <= MAX_PARTS, page
    assert option_lines(pages) == [f"{i} {label}" for i, label in enumerate(LABELS, start=1)]
    assert pages[0].startswith("Which service do you need?\n")
    assert all(page.split("\n")[-3] == "98 More" for page in pages[:-1])
    assert "98 More" not in pages[-1]


def test_render_returns_the_asked_page_and_the_page_count() -> None:
    renderer = SmsRenderer(english)
    pages = renderer.pages(big_menu())
    second = renderer.render(big_menu(), 1)
    assert second.text == pages[1] and second.page == 1 and second.pages == len(pages)


def test_sms_pages_use_the_translated_labels_and_fold(tagged_content: Content) -> None:
    renderer = SmsRenderer(tagged_content.tr)
    pages = renderer.pages(big_menu("fr"))
    assert "98 FR More" in pages[0].split("\n")
    assert "00 FR Back" in pages[1].split("\n")
    ln = renderer.render(Turn(text="Matɔndi. Mibatela malamu.", lang="ln", end=True))
    assert ln.text == "Matondi. Mibatela malamu." and ln.end
    st = renderer.render(Turn(text="Tšebeletso ena", lang="st", end=True))
    assert st.text == "Ts'ebeletso ena"


def test_check_reports_the_page_that_needs_three_parts() -> None:
    renderer = SmsRenderer(english)
    problem = renderer.check(Turn(text="word " * 70, lang="en", end=True))
    assert problem == "page 1 needs 3 SMS parts (at most 2)"
    assert renderer.check(big_menu()) is None, "a long menu pages instead"


def test_an_emoji_does_not_switch_the_text_to_ucs2() -> None:
    renderer = SmsRenderer(english)
    screen = renderer.render(Turn(text="Stay safe 🙏 " + "x" * 140, lang="en", end=True))
    assert is_gsm7(screen.text)
    assert sms_parts(screen.text) == 1, "UCS-2 would have cost three parts"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_shipped_screen_goes_out_in_at_most_two_parts(
    shipped_content: Content, lang: str
) -> None:
    renderer = SmsRenderer(shipped_content.tr)
    for where, turn_lang, turn in shipped_turns(shipped_content):
        if turn_lang == lang:
            assert renderer.check(turn) is None, where
            assert all(sms_parts(page) <= MAX_PARTS for page in renderer.pages(turn))
