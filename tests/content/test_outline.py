"""Structured edits of a draft's YAML: what an admin does in the outline, never typing YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import outline
from bot.content.files import read_areas
from bot.content.outline import OutlineError, Way
from bot.engine.loader import load_text
from bot.engine.model import MenuState, QuestionState
from tests.conftest import ROOT

FLOWS = sorted((ROOT / "flows").glob("*.yaml"))
MAIN = (ROOT / "flows" / "main.yaml").read_text(encoding="utf-8")
SCREENING = (ROOT / "flows" / "screening.yaml").read_text(encoding="utf-8")


def states(source: str) -> list[str]:
    return list(load_text(source, "t.yaml").definition.states)


def menu(source: str, name: str) -> MenuState:
    state = load_text(source, "t.yaml").definition.states[name]
    assert isinstance(state, MenuState)
    return state


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: p.name)
def test_writing_a_shipped_flow_again_changes_nothing_it_means(path: Path) -> None:
    areas = read_areas(ROOT / "flows" / "data" / "areas.yaml")
    source = path.read_text(encoding="utf-8")
    written = outline.dump(outline.load(source), outline.header(source))
    assert load_text(written, "b", areas).definition == load_text(source, "a", areas).definition
    assert written.startswith(outline.header(source))
    assert outline.dump(outline.load(written), outline.header(written)) == written


def test_the_main_flow_is_written_in_its_own_style() -> None:
    written = outline.edit(MAIN, lambda d: None)
    assert (
        "      - {label: English, translate: false, do: [{set_language: en}], next: menu}"
        in written
    )
    assert "\n\n  menu:\n" in written


def test_a_text_and_a_label_change_and_nothing_else() -> None:
    changed = outline.set_text(MAIN, "menu", "  Hotline. Say nothing you do not want to.\r\n")
    changed = outline.set_label(changed, "menu", 0, "Tell us")
    state = menu(changed, "menu")
    assert state.text == "Hotline. Say nothing you do not want to."
    assert state.options[0].label == "Tell us"
    assert [o.next for o in state.options] == [o.next for o in menu(MAIN, "menu").options]


def test_an_empty_text_is_refused() -> None:
    with pytest.raises(OutlineError, match="empty"):
        outline.set_text(MAIN, "menu", "  ")


def test_a_target_is_set_on_an_option_an_answer_or_a_branch() -> None:
    changed = outline.set_target(MAIN, "menu", Way("option:6"), "help:")
    assert menu(changed, "menu").options[5].next == "help:"
    changed = outline.set_target(SCREENING, "S0", Way("answer:skip"), "U1")
    s0 = load_text(changed, "t").definition.states["S0"]
    assert isinstance(s0, QuestionState) and isinstance(s0.next, dict)
    assert s0.next["skip"] == "U1" and s0.next["no"] == "not_safe"
    changed = outline.set_target(SCREENING, "U3", Way("next", branch=1), "Q2")
    u3 = load_text(changed, "t").definition.states["U3"]
    assert isinstance(u3, QuestionState) and isinstance(u3.next, list)
    assert [b.to for b in u3.next] == ["consent", "Q2"]


def test_one_target_for_every_answer_is_split_when_one_answer_changes() -> None:
    changed = outline.set_target(SCREENING, "U1", Way("answer:yes"), "consent")
    u1 = load_text(changed, "t").definition.states["U1"]
    assert isinstance(u1, QuestionState)
    assert u1.next == {"yes": "consent", "no": "U2", "skip": "U2"}


@pytest.mark.parametrize("target", ["", "a b", "x:y:z", "menu\nflow: x"])
def test_a_target_that_is_not_a_name_is_refused(target: str) -> None:
    with pytest.raises(OutlineError):
        outline.set_target(MAIN, "menu", Way("option:1"), target)


def test_a_state_is_added_after_another_and_leads_where_it_is_told() -> None:
    changed = outline.add_state(MAIN, "thanks", "end", "Thank you", after="language")
    assert states(changed) == ["language", "thanks", "menu"]
    added = outline.add_state(MAIN, "ask", "question", "Are you safe?")
    assert states(added)[-1] == "ask"


@pytest.mark.parametrize(
    ("name", "kind", "reason"),
    [("menu", "end", "already"), ("2x", "end", "cannot name"), ("ok", "area", "unknown kind")],
)
def test_a_bad_new_state_is_refused(name: str, kind: str, reason: str) -> None:
    with pytest.raises(OutlineError, match=reason):
        outline.add_state(MAIN, name, kind, "Text")


def test_a_state_others_lead_to_or_the_start_cannot_be_removed() -> None:
    with pytest.raises(OutlineError, match=r"language.*lead"):
        outline.remove_state(MAIN, "menu")
    with pytest.raises(OutlineError, match="starts"):
        outline.remove_state(MAIN, "language")
    added = outline.add_state(MAIN, "spare", "end", "Spare")
    assert outline.remove_state(added, "spare") == outline.edit(MAIN, lambda d: None)


def test_states_and_options_are_reordered() -> None:
    moved = outline.move_state(MAIN, "menu", -1)
    assert states(moved) == ["menu", "language"]
    assert outline.move_state(moved, "menu", -1) == moved  # already first
    options = outline.move_option(MAIN, "menu", 5, -1)
    labels = [o.label for o in menu(options, "menu").options]
    assert labels[4:] == ["Change language", "Follow a report"]


def test_options_are_added_and_removed_but_a_menu_keeps_one() -> None:
    added = outline.add_option(MAIN, "menu", "Call us", "help:")
    assert menu(added, "menu").options[-1].label == "Call us"
    assert outline.remove_option(added, "menu", 6) == outline.edit(MAIN, lambda d: None)
    one = outline.add_state(MAIN, "solo", "menu", "Only one")
    with pytest.raises(OutlineError, match="at least one"):
        outline.remove_option(one, "solo", 0)


def test_an_edit_on_a_missing_state_or_option_is_refused() -> None:
    with pytest.raises(OutlineError, match="no state"):
        outline.set_text(MAIN, "nowhere", "x")
    with pytest.raises(OutlineError, match="no option 9"):
        outline.set_label(MAIN, "menu", 8, "x")


def test_text_that_is_not_a_flow_is_refused() -> None:
    with pytest.raises(OutlineError, match="YAML"):
        outline.load("states: [")
    with pytest.raises(OutlineError, match="mapping"):
        outline.load("- a\n- b\n")


def test_targets_offer_the_flows_states_then_the_other_flows() -> None:
    data = outline.load(MAIN)
    assert outline.targets(data, {"main": "Main", "tip": "Report"}) == ["language", "menu", "tip:"]
