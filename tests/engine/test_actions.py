"""Actions, table-driven: what each does to a conversation, and what a bad one says."""

from __future__ import annotations

from typing import Any

import pytest

from bot.engine.actions import ACTIONS, Scratch, apply_actions, check_action
from bot.engine.state import SessionState


def fresh(**changes: Any) -> Scratch:
    state = SessionState(flow="check", version="v1", state="q1", lang="fr", **changes)
    return Scratch(state)


@pytest.mark.parametrize(
    ("actions", "field", "expected"),
    [
        ([{"record": {"id": "area", "value": "kwilu"}}], "answers", {"area": "kwilu"}),
        ([{"score": "indicators"}, {"score": "indicators"}], "scores", {"indicators": 2}),
        ([{"score": {"name": "control", "by": 3}}], "scores", {"control": 3}),
        ([{"set_priority": {"level": "P3", "rule": "two indicators"}}], "priority", "P3"),
        (
            [
                {"set_priority": {"level": "P1", "rule": "danger now"}},
                {"set_priority": {"level": "P2", "rule": "violence"}},
            ],
            "priority",
            "P1",
        ),
        (
            [
                {"set_priority": {"level": "P3", "rule": "two"}},
                {"set_priority": {"level": "P2", "rule": "violence"}},
            ],
            "rule",
            "violence",
        ),
        ([{"set_language": "st"}], "lang", "st"),
        (
            [
                {
                    "set_priority": {
                        "level": "P2",
                        "rule": "minor",
                        "when": {"score": {"name": "indicators", "at_least": 1}},
                    }
                },
                {"set_priority": {"level": "P4", "rule": "default"}},
            ],
            "rule",
            "default",
        ),
        (
            [
                {"score": "indicators"},
                {
                    "set_priority": {
                        "level": "P3",
                        "rule": "one indicator",
                        "when": {"score": {"name": "indicators", "at_least": 1}},
                    }
                },
                {"set_priority": {"level": "P4", "rule": "default"}},
            ],
            "rule",
            "one indicator",
        ),
    ],
)
def test_action_effects(actions: list[dict[str, Any]], field: str, expected: object) -> None:
    for action in actions:
        assert check_action(action) is None
    scratch = fresh()
    apply_actions(actions, scratch)
    assert getattr(scratch.state, field) == expected
    assert scratch.events == []


def test_emit_carries_everything_the_case_needs() -> None:
    scratch = fresh(
        answers={"U1": "yes"},
        scores={"indicators": 1},
        priority="P1",
        rule="U1",
        sid="s1",
        inputs=["1", "1"],
    )
    apply_actions([{"emit": "screening_completed"}], scratch)
    (event,) = scratch.events
    assert event.name == "screening_completed"
    assert event.payload == {
        "event_id": "s1:2:screening_completed",
        "flow": "check",
        "version": "v1",
        "state": "q1",
        "lang": "fr",
        "answers": {"U1": "yes"},
        "scores": {"indicators": 1},
        "priority": "P1",
        "rule": "U1",
    }
    scratch.state.answers["U1"] = "no"
    assert event.payload["answers"] == {"U1": "yes"}, "the event is a snapshot"


@pytest.mark.parametrize(
    ("action", "problem"),
    [
        ({"sing": "loud"}, "unknown action 'sing'"),
        ({"score": "a", "emit": "b"}, "exactly one key"),
        ("score", "exactly one key"),
        ({"record": {"id": "x"}}, "'record' needs exactly {id: ANSWER_ID, value: VALUE}"),
        ({"score": {"name": "x", "by": "two"}}, "'score' by must be a whole number"),
        ({"set_priority": {"level": "P9", "rule": "x"}}, "level must be one of P1, P2, P3, P4"),
        ({"set_priority": {"level": "P1", "rule": " "}}, "rule must say which rule fired"),
        (
            {"set_priority": {"level": "P1", "rule": "x", "when": {"mood": "bad"}}},
            "unknown condition 'mood'",
        ),
        ({"set_priority": {"level": "P1", "rule": "x", "if": {}}}, "may have when: CONDITION"),
        ({"emit": "case submitted"}, "'emit' needs an event name"),
        ({"set_language": "de"}, "'set_language' must be one of en, fr, ln, st"),
    ],
)
def test_bad_actions_say_why(action: object, problem: str) -> None:
    found = check_action(action)
    assert found is not None and problem in found


def test_registry_names_are_the_names_used_in_flow_files() -> None:
    assert set(ACTIONS) == {"record", "score", "set_priority", "emit", "set_language"}
