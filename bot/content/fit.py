"""Fit meters for the flow editor: does a text, and the whole screen it is on, fit each channel?

A phone shows more than the sentence an admin types: the options, ``00 Back`` and ``0 Exit``,
``98 More`` when a screen pages, and a hint above the question after a wrong reply. So the
screen meter renders the state exactly as validation does (the worst-case placeholders, the
navigation, the hint) with each channel's own renderer, and reports the longest page and how
many pages a screen needs. USSD: 182 GSM-7 characters after folding (80 when a character is
outside GSM-7); SMS: parts per page (at most two); Telegram: 4096 characters per message.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.channels.sms.render import MAX_PARTS, SmsRenderer
from bot.channels.telegram.render import MESSAGE_LIMIT, TelegramRenderer
from bot.channels.ussd.render import UssdRenderer
from bot.engine.loader import LoadedFlow
from bot.engine.model import AreaState
from bot.engine.runner import render
from bot.engine.state import SessionState, Turn
from bot.engine.validate import PLACEHOLDERS
from bot.i18n import ui
from bot.i18n.gsm7 import fold, sms_parts, ussd_length, ussd_limit
from bot.i18n.translate import Translate

CHANNELS = ("ussd", "sms", "telegram")


@dataclass(frozen=True)
class TextFit:
    """One text in one language as a basic phone receives it (folded) and as Telegram shows it."""

    lang: str
    folded: str
    ussd_length: int
    ussd_limit: int
    sms_parts: int
    telegram_length: int
    lost: str
    """Characters folding could not keep (shown as '?' on a basic phone), once each."""

    @property
    def gsm7(self) -> bool:
        return self.ussd_limit == 182

    @property
    def fits(self) -> bool:
        """Alone on a screen: within the USSD limit and Telegram's message."""
        return self.ussd_length <= self.ussd_limit and self.telegram_length <= MESSAGE_LIMIT


def text_fit(text: str, lang: str) -> TextFit:
    """Measure one text in ``lang`` (placeholders counted as written)."""
    folded = fold(text, lang)
    lost = "".join(dict.fromkeys(c for c, f in _pairs(text, lang) if f == "?" and c != "?"))
    return TextFit(
        lang=lang,
        folded=folded,
        ussd_length=ussd_length(folded),
        ussd_limit=ussd_limit(folded),
        sms_parts=sms_parts(folded),
        telegram_length=len(text),
        lost=lost,
    )


def _pairs(text: str, lang: str) -> list[tuple[str, str]]:
    """Each character with what folding alone makes of it (to name what a phone cannot show)."""
    return [(c, fold(c, lang)) for c in dict.fromkeys(text)]


@dataclass(frozen=True)
class ChannelFit:
    """A whole screen on one channel: its pages, the longest one, and whether every page fits."""

    channel: str
    pages: int
    length: int
    """The longest page: septets or UTF-16 units (USSD), SMS parts (SMS), characters (Telegram)."""
    limit: int
    fits: bool
    problem: str | None = None
    """Why it does not fit, as validation says it (None when it fits)."""


@dataclass(frozen=True)
class ScreenFit:
    """A state's screen in one language on every channel."""

    lang: str
    channels: dict[str, ChannelFit]
    lost: str = ""
    """Characters of its texts a basic phone shows as '?' (USSD and SMS), once each."""

    @property
    def fits(self) -> bool:
        return all(c.fits for c in self.channels.values())

    @property
    def ussd(self) -> ChannelFit:
        return self.channels["ussd"]


def screen_turn(loaded: LoadedFlow, state: str, lang: str, tr: Translate) -> Turn | None:
    """The state's screen as validation measures it (worst-case placeholders, with ``00 Back``);
    None for a state the loader expands into several screens (an area state)."""
    definition = loaded.definition
    if state not in definition.states or isinstance(definition.states[state], AreaState):
        return None
    saved = SessionState(loaded.name, loaded.version, state, lang, inputs=["1"], origin=[])
    return render(definition, saved, tr).format(PLACEHOLDERS)


def turn_fit(turn: Turn, tr: Translate) -> ScreenFit:
    """Measure a rendered turn on every channel, and with its hint above (after a wrong reply)."""
    hint = ui.HINT_TEXT if turn.expects == "text" else ui.HINT_CHOICE
    turns = [turn] if turn.end else [turn, replace(turn, notice=tr(turn.lang, hint))]
    texts = [turn.text, *(o.label for o in turn.options)]
    return ScreenFit(
        lang=turn.lang,
        lost="".join(dict.fromkeys(c for t in texts for c in text_fit(t, turn.lang).lost)),
        channels={
            "ussd": _ussd(turns, tr),
            "sms": _sms(turns, tr),
            "telegram": _telegram(turns, tr),
        },
    )


def screen_fit(loaded: LoadedFlow, state: str, lang: str, tr: Translate) -> ScreenFit | None:
    """The fit of a state's screen in ``lang``, or None for an area state."""
    turn = screen_turn(loaded, state, lang, tr)
    return None if turn is None else turn_fit(turn, tr)


def _ussd(turns: list[Turn], tr: Translate) -> ChannelFit:
    ussd = UssdRenderer(tr)
    pages = [ussd.pages(t, cut=False) for t in turns]
    worst = max((p for ps in pages for p in ps), key=lambda p: ussd_length(p) / ussd_limit(p))
    problems = [ussd.check(t) for t in turns]
    problem = next((p for p in problems if p), None)
    if problem and len(turns) > 1 and problems[0] is None:
        problem = f"with its hint {problem}"
    return ChannelFit(
        "ussd",
        pages=max(len(p) for p in pages),
        length=ussd_length(worst),
        limit=ussd_limit(worst),
        fits=problem is None,
        problem=problem,
    )


def _sms(turns: list[Turn], tr: Translate) -> ChannelFit:
    sms = SmsRenderer(tr)
    pages = [sms.pages(t, cut=False) for t in turns]
    parts = max(sms_parts(p) for ps in pages for p in ps)
    problem = next((p for p in (sms.check(t) for t in turns) if p), None)
    return ChannelFit(
        "sms",
        pages=max(len(p) for p in pages),
        length=parts,
        limit=MAX_PARTS,
        fits=problem is None,
        problem=problem,
    )


def _telegram(turns: list[Turn], tr: Translate) -> ChannelFit:
    telegram = TelegramRenderer(tr)
    length = max(len(telegram.render(t).text) for t in turns)
    problem = next((p for p in (telegram.check(t) for t in turns) if p), None)
    if problem is None and length > MESSAGE_LIMIT:
        problem = f"the message is {length}/{MESSAGE_LIMIT} characters"
    return ChannelFit(
        "telegram",
        pages=1,
        length=length,
        limit=MESSAGE_LIMIT,
        fits=problem is None,
        problem=problem,
    )
