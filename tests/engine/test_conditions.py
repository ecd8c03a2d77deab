"""Conditions, table-driven: when each holds, and what a bad one says."""

from __future__ import annotations

from typing import Any

import pytest

from bot.engine.conditions import CONDITIONS, check_condition, holds
from bot.engine.state import SessionState

STATE = SessionState(
    flow="check",
    version="v1",
    state="q1",
    lang="ln",
    answers={"U1": "yes", "U3": "no"},
    scores={"indicators": 2, "control": 0},
    priority="P2",
    channel="telegram",
)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"answer": {"id": "U1", "is": "yes"}}, True),
        ({"answer": {"id": "U1", "is": ["no", "skip"]}}, False),
        ({"answer": {"id": "Q9", "is": "yes"}}, False),
        ({"score": {"name": "indicators", "at_least": 2}}, True),
        ({"score": {"name": "indicators", "at_least": 3}}, False),
        ({"score": {"name": "indicators", "at_most": 1}}, False),
        ({"score": {"name": "missing", "at_most": 0}}, True),
        ({"score": {"name": "indicators", "at_least": 1, "at_most": 2}}, True),
        ({"priority": "P2"}, True),
        ({"language": "ln"}, True),
        ({"language": "fr"}, False),
        ({"all": [{"priority": "P2"}, {"answer": {"id": "U3", "is": "no"}}]}, True),
        ({"all": [{"priority": "P2"}, {"answer": {"id": "U3", "is": "yes"}}]}, False),
        ({"any": [{"priority": "P1"}, {"language": "ln"}]}, True),
        ({"not": {"language": "ln"}}, False),
        ({"channel": "telegram"}, True),
        ({"channel": "ussd"}, False),
    ],
)
def test_condition_holds(condition: dict[str, Any], expected: bool) -> None:
    assert check_condition(condition) is None
    assert holds(condition, STATE) is expected


@pytest.mark.parametrize(
    ("condition", "problem"),
    [
        ({"answr": {"id": "U1", "is": "yes"}}, "unknown condition 'answr'"),
        ({"answer": {"id": "U1"}}, "'answer' needs exactly {id: ANSWER_ID, is: VALUE or [VALUES]}"),
        ({"score": {"name": "x"}}, "'score' needs at_least and/or at_most"),
        ({"score": {"name": "x", "at_least": "two"}}, "bounds must be whole numbers"),
        ({"priority": "urgent"}, "'priority' must be one of P1, P2, P3, P4"),
        ({"all": []}, "take a non-empty list"),
        ({"any": [{"nope": 1}]}, "unknown condition 'nope'"),
        ({"not": {"language": "xx"}}, "'language' must be en, fr, ln or st"),
        ({"channel": "whatsapp"}, "'channel' must be ussd, sms, telegram"),
        ([], "exactly one key"),
    ],
)
def test_bad_conditions_say_why(condition: object, problem: str) -> None:
    found = check_condition(condition)
    assert found is not None and problem in found


def test_registry_names_are_the_names_used_in_flow_files() -> None:
    assert set(CONDITIONS) == {
        "answer",
        "score",
        "priority",
        "language",
        "channel",
        "all",
        "any",
        "not",
    }
