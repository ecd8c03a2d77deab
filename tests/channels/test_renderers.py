"""Every shipped screen on every channel, as a person meets it: after a wrong reply, and paged.

A wrong reply (a number not offered, letters, nothing, a long text where a number is expected;
nothing where a text is asked) shows the question again with its options and a short hint;
long texts page after a sentence or between words, never with a page of navigation alone.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest

from bot.channels.renderers import RENDERERS
from bot.content.files import Content
from bot.conversation.ports import MORE_KEY, Screen
from bot.conversation.service import Conversations
from bot.core.languages import LANGUAGES
from bot.engine.model import EndState, TextState
from bot.engine.runner import render
from bot.engine.state import Event, SessionState, Turn
from bot.i18n import ui
from bot.i18n.gsm7 import fits_ussd, fold
from bot.sessions import MemorySessionStore
from tests.channels.conftest import NAV_LINE

FILLED = {"hotline_number": "0800 000 000", "reference": "K7QM-42"}
WRONG_CHOICES = ("99", "abc", "", "I need help, they took my passport " * 5)
"""Out of range, letters, nothing, and a long text where a number is expected."""


@dataclass(frozen=True)
class Where:
    """One screen of a shipped flow, in a language, reached after an earlier answer or not."""

    flow: str
    version: str
    state: str
    lang: str
    back: bool

    def saved(self) -> SessionState:
        origin = [self.flow, self.version, self.state, self.lang]
        return SessionState(
            self.flow, self.version, self.state, self.lang, inputs=["1"] * self.back, origin=origin
        )


def screens(content: Content) -> Iterator[tuple[Where, object]]:
    """Every screen that waits for a reply, in every language, with and without 00 Back."""
    for compiled in content.registry.current():
        for name, screen in compiled.loaded.definition.states.items():
            if isinstance(screen, EndState):
                continue
            for lang in LANGUAGES:
                for back in (False, True):
                    yield Where(compiled.name, compiled.version, name, lang, back), screen


class NoSink:
    """No event is expected from a wrong reply."""

    async def handle(
        self,
        events: Sequence[Event],
        *,
        channel: str,
        contact: str,
        address: str | None = None,
    ) -> dict[str, str]:
        raise AssertionError(f"a wrong reply handed events over: {events}")


def wrong_replies(screen: object) -> tuple[str, ...]:
    if isinstance(screen, TextState):
        return () if screen.optional else ("", "   ")
    return WRONG_CHOICES


def page_texts(pages: list[str], turn: Turn) -> list[str]:
    """The pages without their option, More and navigation lines."""
    fixed = {f"{c.key} {c.label}" for c in (*turn.options, *turn.navigation)}
    return [
        "\n".join(r for r in page.split("\n") if r not in fixed and not NAV_LINE.match(r))
        for page in pages
    ]


async def every_page(
    conversations: Conversations, store: MemorySessionStore, channel: str, where: Where, wrong: str
) -> list[Screen]:
    """The screen a wrong reply gets, then each page after it through 98 More."""
    renderer = RENDERERS[channel](conversations.content.tr)
    key = f"{channel}:walk"
    await store.set(key, where.saved().to_dict(), 60)
    shown = [await conversations.reply(key, wrong, renderer, where.lang)]
    while shown[-1].page + 1 < shown[-1].pages:
        shown.append(await conversations.reply(key, MORE_KEY, renderer, where.lang))
    return shown


@pytest.mark.parametrize("channel", ["ussd", "sms", "telegram"])
async def test_a_wrong_reply_shows_the_question_its_options_and_a_hint_everywhere(
    shipped_content: Content, channel: str
) -> None:
    store = MemorySessionStore()
    conversations = Conversations(shipped_content, store, NoSink(), values=FILLED)
    tr = shipped_content.tr
    walked = 0
    for where, screen in screens(shipped_content):
        compiled = shipped_content.registry.get(where.flow, where.version)
        assert compiled is not None
        turn = render(compiled.loaded.definition, where.saved(), tr).format(FILLED)
        hint = ui.HINT_TEXT if isinstance(screen, TextState) else ui.HINT_CHOICE
        for wrong in wrong_replies(screen):
            shown = await every_page(conversations, store, channel, where, wrong)
            context = (where, wrong, [s.text for s in shown])
            if channel == "telegram":
                (only,) = shown
                assert turn.text in only.text and only.text != turn.text, context
                assert only.buttons == (*turn.options, *turn.navigation), context
                continue
            lang = where.lang
            folded = Turn(
                fold(turn.text, lang),
                lang,
                tuple(type(c)(c.key, fold(c.label, lang)) for c in turn.options),
                tuple(type(c)(c.key, fold(c.label, lang)) for c in turn.navigation),
            )
            pages = [s.text for s in shown]
            texts = page_texts(pages, folded)
            words = " ".join(texts).split()
            expected = f"{fold(tr(lang, hint), lang)} {folded.text}".split()
            assert words == expected, context
            assert texts[0].startswith(fold(tr(lang, hint), lang) + "\n"), context
            shown_options = [r for p in pages for r in p.split("\n") if not NAV_LINE.match(r)]
            for choice in folded.options:
                assert shown_options.count(f"{choice.key} {choice.label}") == 1, context
            if channel == "ussd":
                assert all(fits_ussd(page) for page in pages), context
            walked += 1
    assert walked > 1000 or channel == "telegram"


@pytest.mark.parametrize("channel", ["ussd", "sms"])
def test_long_texts_page_between_words_and_never_as_navigation_alone(
    shipped_content: Content, channel: str
) -> None:
    """Every shipped screen (the "What is trafficking?" text among them) in all four
    languages: every word whole on one page, in order; each page holds more than navigation;
    each USSD page fits 182 GSM-7 characters after folding."""
    renderer = RENDERERS[channel](shipped_content.tr)
    paged = 0
    for compiled in shipped_content.registry.current():
        definition = compiled.loaded.definition
        for name in definition.states:
            for lang in LANGUAGES:
                for back in (False, True):
                    state = SessionState(compiled.name, compiled.version, name, lang)
                    state.inputs = ["1"] * back
                    turn = render(definition, state, shipped_content.tr).format(FILLED)
                    count = renderer.render(turn).pages
                    pages = [renderer.render(turn, page).text for page in range(count)]
                    options = {
                        f"{c.key} {fold(c.label, lang)}" for c in (*turn.options, *turn.navigation)
                    }
                    for page in pages:
                        rows = page.split("\n")
                        assert not all(NAV_LINE.match(r) for r in rows), (name, lang, pages)
                        if channel == "ussd":
                            assert fits_ussd(page), (name, lang, page)
                    texts = [
                        "\n".join(
                            r for r in p.split("\n") if r not in options and not NAV_LINE.match(r)
                        )
                        for p in pages
                    ]
                    expected = fold(turn.text, lang).split()
                    assert " ".join(texts).split() == expected, (name, lang, pages)
                    paged += len(pages) > 1
    assert paged >= 4 * 4 or channel == "sms", "the long information texts page on USSD"
