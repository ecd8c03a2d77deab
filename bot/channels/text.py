"""Shared layout for text-only channels (USSD, SMS): fold to GSM-7 per language, then paginate."""

from __future__ import annotations

from dataclasses import replace

from bot.engine.state import Choice, Turn
from bot.i18n import ui
from bot.i18n.gsm7 import fold
from bot.i18n.translate import Translate


def fold_turn(turn: Turn) -> Turn:
    """The turn with every text folded to what a basic phone shows in that language."""
    lang = turn.lang

    def choices(items: tuple[Choice, ...]) -> tuple[Choice, ...]:
        return tuple(Choice(c.key, fold(c.label, lang)) for c in items)

    return replace(
        turn,
        text=fold(turn.text, lang),
        notice=fold(turn.notice, lang) if turn.notice else None,
        options=choices(turn.options),
        navigation=choices(turn.navigation),
    )


def page_labels(tr: Translate, lang: str) -> tuple[str, str]:
    """The folded 'More' and 'Back' labels in a language."""
    return fold(tr(lang, ui.MORE), lang), fold(tr(lang, ui.BACK), lang)
