"""The one list of languages: codes, their type, and their names on the first screen."""

from __future__ import annotations

from typing import get_args

import pytest
import yaml

from bot.core.languages import (
    LANGUAGES,
    NAMES,
    SOURCE,
    Language,
    check_language,
    is_language,
)
from bot.core.settings import ROOT


def test_the_codes_the_type_and_the_names_agree() -> None:
    assert LANGUAGES == ("en", "fr", "ln", "st")
    assert get_args(Language) == LANGUAGES
    assert tuple(NAMES) == LANGUAGES
    assert LANGUAGES[0] == SOURCE
    assert all(name.isascii() for name in NAMES.values())


def test_the_first_screen_shows_each_language_by_its_name() -> None:
    flow = yaml.safe_load((ROOT / "flows" / "main.yaml").read_text(encoding="utf-8"))
    labels = {
        action["set_language"]: option["label"]
        for state in flow["states"].values()
        if isinstance(state, dict)
        for option in state.get("options", [])
        for action in option.get("do", [])
        if isinstance(action, dict) and "set_language" in action
    }
    assert labels == NAMES


def test_checking_a_code() -> None:
    assert is_language("ln") and not is_language("LN") and not is_language(None)
    assert check_language("st") == "st"
    with pytest.raises(ValueError, match="lang must be one of en, fr, ln, st"):
        check_language("de")
    with pytest.raises(ValueError, match="language must be one of"):
        check_language("sw", "language")
