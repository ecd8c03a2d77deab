"""The diff between two versions: structure, and each text in every language."""

from __future__ import annotations

from bot.content import diff, outline
from bot.content.outline import Way
from tests.conftest import ROOT

MAIN = (ROOT / "flows" / "main.yaml").read_text(encoding="utf-8")
TEXTS = {
    "fr": {"Report something": "Signaler quelque chose"},
    "ln": {"Report something": "Koyebisa likambo"},
    "st": {"Report something": "Tlaleha ho hong"},
}


def test_the_same_version_has_no_changes() -> None:
    assert diff.compare(MAIN, TEXTS, MAIN, TEXTS).same


def test_states_added_and_removed() -> None:
    added = outline.add_state(MAIN, "thanks", "end", "Thank you")
    found = diff.compare(MAIN, TEXTS, added, TEXTS)
    assert found.changes == [diff.Change("thanks", "added", "state", after="Thank you")]
    back = diff.compare(added, TEXTS, MAIN, TEXTS)
    assert back.changes == [diff.Change("thanks", "removed", "state", before="Thank you")]


def test_options_targets_and_actions_changed() -> None:
    changed = outline.set_target(MAIN, "menu", Way("option:6"), "help:")
    changed = outline.add_option(changed, "menu", "Call us", "help:")
    found = diff.compare(MAIN, TEXTS, changed, TEXTS)
    assert diff.Change("menu", "changed", "target", "6", "language", "help:") in found.changes
    assert diff.Change("menu", "added", "option", "7", after="Call us") in found.changes
    assert found.states() == ["menu"]


def test_a_reworded_english_text_shows_its_translations_beside_it() -> None:
    reworded = outline.set_label(MAIN, "menu", 0, "Tell us something")
    new_texts = {
        "fr": {"Tell us something": "Dites-nous"},
        "ln": {"Tell us something": "Koyebisa likambo"},
        "st": {},
    }
    found = diff.compare(MAIN, TEXTS, reworded, new_texts)
    assert (
        diff.Change("menu", "changed", "label", "1", "Report something", "Tell us something", "en")
        in found.changes
    )
    assert (
        diff.Change("menu", "changed", "label", "1", "Signaler quelque chose", "Dites-nous", "fr")
        in found.changes
    )
    assert (
        diff.Change("menu", "changed", "label", "1", "Tlaleha ho hong", "", "st") in found.changes
    )
    assert not [c for c in found.changes if c.lang == "ln"]  # same Lingala text


def test_a_translation_alone_changes() -> None:
    new_texts = {**TEXTS, "st": {"Report something": "Tlaleha"}}
    found = diff.compare(MAIN, TEXTS, MAIN, new_texts)
    assert found.changes == [
        diff.Change("menu", "changed", "label", "1", "Tlaleha ho hong", "Tlaleha", "st")
    ]


def test_settings_changed_are_named() -> None:
    changed = outline.edit(MAIN, lambda d: d["states"]["language"].__setitem__("back", True))
    found = diff.compare(MAIN, TEXTS, changed, TEXTS)
    assert found.changes == [diff.Change("language", "changed", "setting", "back", "false", "true")]


def test_a_side_that_does_not_parse_is_compared_line_by_line() -> None:
    found = diff.compare(MAIN, TEXTS, "states: [", TEXTS)
    assert found.changes == [] and found.lines
    assert "+states: [" in found.lines
