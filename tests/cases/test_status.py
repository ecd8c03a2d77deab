"""The case status machine: every legal change, and clear refusals for the rest."""

from __future__ import annotations

import pytest

from bot.cases.status import IllegalTransition, MoveNotAllowed, Status, allowed, move, moves_for

LEGAL = [
    ("new", "triaged"),
    ("triaged", "active"),
    ("active", "referred"),
    ("follow_up", "referred"),
    ("active", "follow_up"),
    ("referred", "follow_up"),
    ("closed", "active"),
]


@pytest.mark.parametrize(("start", "target"), LEGAL)
def test_legal_changes(start: str, target: str) -> None:
    assert move(start, target) == target


@pytest.mark.parametrize("start", [s.value for s in Status if s != Status.CLOSED])
def test_any_open_case_may_close_with_a_reason(start: str) -> None:
    assert move(start, "closed", reason="duplicate") == "closed"
    with pytest.raises(IllegalTransition, match="closing needs a reason"):
        move(start, "closed")
    with pytest.raises(IllegalTransition, match="closing needs a reason"):
        move(start, "closed", reason="bored")


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (s.value, t.value)
        for s in Status
        for t in Status
        if t != Status.CLOSED and (s.value, t.value) not in LEGAL
    ],
)
def test_illegal_changes_say_what_is_allowed(start: str, target: str) -> None:
    with pytest.raises(IllegalTransition) as refused:
        move(start, target)
    assert f"a {start} case cannot become {target}" in str(refused.value)
    assert "allowed: " in str(refused.value)


def test_allowed_lists_next_steps() -> None:
    assert allowed("new") == ["closed", "triaged"]
    assert allowed("closed") == ["active"]


def test_a_refused_move_carries_what_is_allowed() -> None:
    with pytest.raises(MoveNotAllowed) as refused:
        move("closed", "closed", reason="duplicate")
    assert refused.value.allowed == ["active"]
    with pytest.raises(MoveNotAllowed) as forged:
        move("new", "referred")
    assert forged.value.allowed == ["closed", "triaged"]


def test_reopening_is_offered_to_supervisors_only() -> None:
    assert moves_for("closed", "operator") == []
    assert moves_for("closed", "supervisor") == moves_for("closed", "admin") == ["active"]
    assert moves_for("active", "operator") == allowed("active")
