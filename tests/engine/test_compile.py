"""Compiling flows into one shared transitions machine per version, borrowed per request."""

from __future__ import annotations

import pytest

from bot.engine.actions import Scratch
from bot.engine.registry import FlowRegistry
from bot.engine.runner import advance, begin
from bot.engine.state import SessionState
from bot.i18n.catalog import Catalogs
from tests.engine.conftest import CHECK, MAIN, build

Flows = tuple[FlowRegistry, Catalogs]


def test_one_machine_per_version_shared_by_all_conversations(flows: Flows) -> None:
    registry, catalogs = flows
    check = registry.get("check")
    assert check is not None
    machine = check.machine
    step = begin(registry, "check", "en", catalogs.gettext)
    for _ in range(50):
        assert step.state is not None
        step = advance(registry, step.state, "1", catalogs.gettext)
        if step.state is None:
            step = begin(registry, "check", "en", catalogs.gettext)
    assert registry.get("check") is check and check.machine is machine
    assert machine.models == [], "every request's model is removed again"


def test_model_is_removed_even_when_the_request_fails(flows: Flows) -> None:
    registry, _ = flows
    check = registry.get("check")
    assert check is not None
    state = SessionState("check", check.version, "safe", "en")
    with pytest.raises(RuntimeError), check.borrow(Scratch(state)):
        assert len(check.machine.models) == 1
        raise RuntimeError("boom")
    assert check.machine.models == []


def test_branches_become_ordered_conditional_transitions(flows: Flows) -> None:
    registry, _ = flows
    check = registry.get("check")
    assert check is not None
    transitions = check.machine.events["opt_1"].transitions["id_taken"]
    assert [t.dest for t in transitions] == ["callback", "describe"]
    assert len(transitions[0].conditions) == 1 and transitions[1].conditions == []


def test_other_flows_are_pseudo_states(flows: Flows) -> None:
    registry, _ = flows
    main = registry.get("main")
    assert main is not None
    assert "@check:" in main.machine.states
    assert [t.dest for t in main.machine.events["opt_1"].transitions["menu"]] == ["@check:"]


def test_new_version_runs_new_sessions_while_old_ones_finish_on_theirs() -> None:
    registry, catalogs = build(MAIN, CHECK)
    old = begin(registry, "check", "en", catalogs.gettext).state
    assert old is not None
    newer, _ = build(MAIN, CHECK.replace("Are you in danger right now?", "Are you in danger now?"))
    edited = newer.get("check")
    assert edited is not None
    registry.add(edited)
    assert registry.get("check") is edited
    cont = advance(registry, old, "1", catalogs.gettext)
    assert cont.turn.text == "Are you in danger right now?", "a running session keeps its version"
    fresh = begin(registry, "check", "en", catalogs.gettext)
    assert fresh.state is not None and fresh.state.version == edited.version
