"""The screens a person meets before choosing anything: neutral, one USSD screen, honest.

Someone may read over the person's shoulder: the language menu, the main menu and the "Get help
now" screen never name trafficking, exploitation or victims, in any language, and carry the
deployment's neutral name. "Free" is said only by a toll-free deployment.
"""

from __future__ import annotations

import re

import pytest

from bot.channels.ussd.render import UssdRenderer
from bot.content.files import Content
from bot.engine.runner import render
from bot.engine.state import SessionState
from bot.engine.validate import flow_texts
from bot.i18n import ui
from bot.i18n.catalog import LANGUAGES
from bot.i18n.translate import Translate

LONGEST = {"hotline_name": "W" * 20, "hotline_number": "+243 000 000 000"}
"""The longest name and number the settings accept."""
FIRST_SCREENS = [("main", "language"), ("main", "menu"), ("help", "help")]
NAMES_THE_CRIME = {
    "en": r"traffick|exploit|victim|anonym|abuse",
    "fr": r"traite|exploit|victime|anonym|trafic",
    "ln": r"mombongo|nyokw|kotɛkisa|mobulu",
    "st": r"khoebo|mohlaseluoa|tlhekefetso|rekis",
}
FREE = {
    "en": r"\bfree\b(?! when| to leave)",
    "fr": r"gratuit",
    "ln": r"ofele",
    "st": r"mahala",
}
"""How each language says "free (of charge)" (English "free" also means "not held")."""


def translations(content: Content, toll_free: bool) -> Translate:
    return content.catalogs.toll_free().gettext if toll_free else content.catalogs.gettext


def screen(content: Content, tr: Translate, flow: str, state: str, lang: str) -> str:
    compiled = content.registry.get(flow)
    assert compiled is not None
    saved = SessionState(flow, compiled.version, state, lang, inputs=["1"])
    turn = render(compiled.loaded.definition, saved, tr).format(LONGEST)
    shown = UssdRenderer(tr).render(turn)
    assert shown.pages == 1, f"{flow}:{state} [{lang}] takes {shown.pages} USSD screens"
    return turn.text + "\n" + "\n".join(o.label for o in turn.options)


@pytest.mark.parametrize("toll_free", [False, True], ids=["not-toll-free", "toll-free"])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_first_screens_are_neutral_and_fit_one_screen_with_the_longest_name(
    shipped_content: Content, lang: str, toll_free: bool
) -> None:
    tr = translations(shipped_content, toll_free)
    for flow, state in FIRST_SCREENS:
        text = screen(shipped_content, tr, flow, state, lang)
        found = re.search(NAMES_THE_CRIME[lang], text, re.IGNORECASE)
        assert found is None, f"{flow}:{state} [{lang}] says {found.group()!r}: {text}"
    menu = screen(shipped_content, tr, "main", "menu", lang)
    assert menu.startswith(LONGEST["hotline_name"]), "the deployment's name heads the main menu"
    says_free = re.search(FREE[lang], menu, re.IGNORECASE) is not None
    assert says_free is toll_free


@pytest.mark.parametrize("lang", LANGUAGES)
def test_free_is_said_only_by_a_toll_free_deployment(shipped_content: Content, lang: str) -> None:
    tr = shipped_content.catalogs.gettext
    said = [
        (compiled.name, state)
        for name in shipped_content.registry.names()
        if (compiled := shipped_content.registry.get(name)) is not None
        for state, text in flow_texts(compiled.loaded.definition)
        if re.search(FREE[lang], tr(lang, text), re.IGNORECASE)
    ]
    assert said == []
    for plain, free in ui.TOLL_FREE.items():
        assert not re.search(FREE[lang], tr(lang, plain), re.IGNORECASE), plain
        assert re.search(FREE[lang], tr(lang, free), re.IGNORECASE), free


def test_every_toll_free_text_replaces_a_text_that_is_shown(shipped_content: Content) -> None:
    shown = {
        text
        for name in shipped_content.registry.names()
        if (compiled := shipped_content.registry.get(name)) is not None
        for _, text in flow_texts(compiled.loaded.definition)
    }
    assert set(ui.TOLL_FREE) - {ui.SERVICES_NONE} <= shown
