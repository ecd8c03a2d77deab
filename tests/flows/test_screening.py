"""The self-screening priority rule (DESIGN.md §7), on a table of answer sets, through the engine.

The shipped flow is run by the pure engine; each row says how a person answered and which
priority and rule the operator must see. Unlisted urgent questions are answered No, unlisted
indicators as not flagging (No, or Yes for Q2 "can you stop this work").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content.files import Content
from bot.engine.runner import advance, begin
from bot.engine.state import Event

ROOT = Path(__file__).resolve().parents[2]
KEY = {"yes": "1", "no": "2", "skip": "3"}
QUESTIONS = ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7", "Q8", "Q9", "Q10"]
NOT_FLAGGED = {q: "no" for q in QUESTIONS} | {"Q2": "yes"}


@pytest.fixture(scope="module")
def content(shipped_content: Content) -> Content:
    return shipped_content


def screen(content: Content, given: dict[str, str], *, call_back: str = "no") -> Event:
    """Answer the screening as given and return the event it submits."""
    answers = {"U1": "no", "U2": "no", "U3": "no", **NOT_FLAGGED, **given}
    step = begin(content.registry, "screening", "en", content.tr, sid="s")
    inputs = [KEY["yes"]]  # S0: safe to answer
    inputs += [KEY[answers[u]] for u in ("U1", "U2", "U3")]
    urgent = "yes" in (answers["U1"], answers["U2"])
    if not urgent:
        inputs += [KEY[answers[q]] for q in QUESTIONS]
    inputs.append(KEY[call_back])
    if call_back == "yes":
        inputs += ["4", "1"]  # any time, by phone call
    for raw in inputs:
        assert step.state is not None, f"ended before {raw}"
        step = advance(content.registry, step.state, raw, content.tr)
    assert step.state is None and step.turn.end
    (event,) = step.events
    assert event.name == "screening_completed"
    return event


P1_U1 = ("P1", "P1: U1 in danger now")
P1_U2 = ("P1", "P1: U2 locked in or guarded")
P2_Q7 = ("P2", "P2: Q7 violence")
P2_MINOR = ("P2", "P2: under 18 with an indicator")
P2_IC = ("P2", "P2: deception or involuntariness with coercion")
P3 = ("P3", "P3: 2 or more indicators")
P4 = ("P4", "P4: 0-1 indicators")

TABLE: list[tuple[str, dict[str, str], tuple[str, str]]] = [
    ("in danger now", {"U1": "yes"}, P1_U1),
    ("locked in", {"U2": "yes"}, P1_U2),
    ("both urgent: the first rule is named", {"U1": "yes", "U2": "yes"}, P1_U1),
    ("urgent child", {"U2": "yes", "U3": "yes"}, P1_U2),
    ("nothing flags", {}, P4),
    ("one indicator", {"Q9": "yes"}, P4),
    ("violence alone", {"Q7": "yes"}, P2_Q7),
    ("violence wins over the other P2 rules", {"Q7": "yes", "U3": "yes", "Q1": "yes"}, P2_Q7),
    ("a child with one indicator", {"U3": "yes", "Q10": "yes"}, P2_MINOR),
    ("a child with no indicator", {"U3": "yes"}, P4),
    ("deception and document retention", {"Q1": "yes", "Q3": "yes"}, P2_IC),
    ("cannot stop (Q2 No) and pay withheld", {"Q2": "no", "Q4": "yes"}, P2_IC),
    ("two indicators, neither [I] nor [C] together", {"Q9": "yes", "Q10": "yes"}, P3),
    ("two [C] items only", {"Q3": "yes", "Q5": "yes"}, P3),
    ("two [I] items only", {"Q1": "yes", "Q2": "no"}, P3),
    ("can stop the work (Q2 Yes) does not flag", {"Q2": "yes", "Q9": "yes"}, P4),
    ("all skipped", dict.fromkeys(["U3", *QUESTIONS], "skip"), P4),
    ("skips score nothing", {"Q1": "skip", "Q3": "skip", "Q9": "yes"}, P4),
    ("skipped age with indicators", {"U3": "skip", "Q6": "yes", "Q8": "yes"}, P3),
]


@pytest.mark.parametrize(
    ("given", "expected"), [(g, e) for _, g, e in TABLE], ids=[name for name, _, _ in TABLE]
)
def test_priority_rule(content: Content, given: dict[str, str], expected: tuple[str, str]) -> None:
    event = screen(content, given)
    assert (event.payload["priority"], event.payload["rule"]) == expected


def test_skip_is_kept_as_unknown_with_the_answers(content: Content) -> None:
    event = screen(content, {"Q1": "skip", "U3": "skip"})
    answers = event.payload["answers"]
    assert answers["Q1"] == "skip" and answers["U3"] == "skip"
    assert answers["Q2"] == "yes" and answers["S0"] == "yes"
    assert event.payload["scores"].get("indicators", 0) == 0


def test_urgent_answers_skip_the_indicators(content: Content) -> None:
    event = screen(content, {"U1": "yes"})
    assert not any(q in event.payload["answers"] for q in QUESTIONS)


def test_a_call_back_is_recorded_only_with_consent(content: Content) -> None:
    without = screen(content, {"Q7": "yes"})
    assert without.payload["answers"]["consent_contact"] == "no"
    assert "safe_time" not in without.payload["answers"]
    with_consent = screen(content, {"Q7": "yes"}, call_back="yes")
    answers = with_consent.payload["answers"]
    assert answers["consent_contact"] == "yes"
    assert (answers["safe_time"], answers["contact_method"]) == ("any", "call")


def test_going_back_does_not_count_an_indicator_twice(content: Content) -> None:
    step = begin(content.registry, "screening", "en", content.tr, sid="s")
    for raw in ["1", "2", "2", "2", "1", "00", "1", "1"]:  # Q1 yes, back, Q1 yes again, Q2 yes
        assert step.state is not None
        step = advance(content.registry, step.state, raw, content.tr)
    assert step.state is not None and step.state.scores == {"indicators": 1, "deception": 1}


@pytest.mark.parametrize("answer", ["2", "3"])
def test_not_safe_now_ends_at_once_and_emits_nothing(content: Content, answer: str) -> None:
    step = begin(content.registry, "screening", "en", content.tr, sid="s")
    assert step.state is not None
    step = advance(content.registry, step.state, answer, content.tr)
    assert step.state is None and step.turn.end and step.events == ()
    screening = content.registry.get("screening")
    assert screening is not None
    assert "{hotline_number}" in screening.loaded.definition.states["not_safe"].text
