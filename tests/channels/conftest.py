"""Content and turns shared by the channel tests: the shipped flows and tagged test flows."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import respx

from bot.content import Content, load_content
from bot.engine.state import Choice, Turn
from bot.settings import Settings
from tests.engine.conftest import CHECK, MAIN, build

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


@pytest.fixture(scope="session")
def shipped_content() -> Content:
    """The shipped flows with the real catalogs, validated as the service loads them."""
    return load_content(ROOT / "flows", ROOT / "locales")


@pytest.fixture(scope="session")
def tagged_content() -> Content:
    """The engine test flows with the tagged catalog ("FR text", "LN text", ...)."""
    registry, catalogs = build(MAIN, CHECK)
    return Content(registry, catalogs)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No HOTLINE_* setting leaks in from the shell (service codes, language, number, token)."""
    for name in Settings.model_fields:
        monkeypatch.delenv(f"HOTLINE_{name.upper()}", raising=False)


@pytest.fixture(autouse=True)
def capture_everything(caplog: pytest.LogCaptureFixture) -> None:
    """Every log line at every level is captured, so tests can search it for ids and numbers."""
    caplog.set_level(logging.DEBUG)


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    """The Telegram Bot API, mocked with respx: nothing reaches the network."""
    with respx.mock(assert_all_called=False) as mocked:
        yield mocked
