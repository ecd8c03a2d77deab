"""Content and turns shared by the channel tests: the shipped flows and tagged test flows."""

from __future__ import annotations

import re
from pathlib import Path

from bot.engine.state import Choice, Turn

ROOT = Path(__file__).resolve().parents[2]

LONG_LABELS = [
    "Shelter and a safe place to sleep tonight",
    "Medical care for injuries or illness",
    "Psychosocial support and counselling",
    "Legal advice about your rights and papers",
    "Police protection and filing a complaint",
    "Family tracing and contact with relatives",
    "Return home and help to start again",
    "Help for a child who works or is exploited",
    "Help with a forced or arranged marriage",
    "Work that was different from the promise",
    "Someone keeps your passport or ID card",
    "A debt you cannot repay to your employer",
    "Someone threatens you or your family",
    "You cannot leave the place where you work",
    "Something else not listed on this menu",
]
"""Fifteen long option labels: far more than one 182-character USSD screen holds."""

BACK = Choice("00", "Back")
EXIT = Choice("0", "Exit")
NAV_LINE = re.compile(r"^(98|00|0) ")


def long_menu(lang: str = "en", *, back: bool = True, notice: str | None = None) -> Turn:
    """A menu of fifteen long options, as the engine would produce it."""
    return Turn(
        text="Which service do you need?",
        lang=lang,
        options=tuple(Choice(str(i), label) for i, label in enumerate(LONG_LABELS, start=1)),
        navigation=(BACK, EXIT) if back else (EXIT,),
        notice=notice,
    )


def option_lines(pages: list[str]) -> list[str]:
    """Every numbered option line across pages, navigation lines (98, 00, 0) left out."""
    return [
        row
        for page in pages
        for row in page.split("\n")
        if re.match(r"^\d+ ", row) and not NAV_LINE.match(row)
    ]
