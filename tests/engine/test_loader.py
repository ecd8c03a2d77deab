"""Loading flow files: broken YAML or wrong types are refused with file, line, state and reason."""

from __future__ import annotations

import pytest

from bot.engine.loader import FlowIssue, FlowLoadError, load_text
from bot.engine.model import QuestionState
from tests.engine.conftest import CHECK


def refused(text: str) -> list[str]:
    with pytest.raises(FlowLoadError) as caught:
        load_text(text, "flows/x.yaml")
    return [str(i) for i in caught.value.issues]


def test_yaml_syntax_error_names_file_and_line() -> None:
    broken = CHECK.replace("    text: Come back when it is safe.", "    text: [Come back")
    (problem,) = refused(broken)
    assert problem.startswith("flows/x.yaml:")
    assert "not valid YAML" in problem
    line = int(problem.split(":")[1])
    assert 9 <= line <= 13


def test_wrong_type_names_state_field_and_line() -> None:
    broken = CHECK.replace("max_length: 20", "max_length: lots")
    assert refused(broken) == [
        "flows/x.yaml:38 state 'describe': max_length: Input should be a valid integer, unable to "
        "parse string as an integer"
    ]


def test_unknown_state_type() -> None:
    (problem,) = refused(
        CHECK.replace("type: end\n    text: Come back", "type: stop\n    text: Come back")
    )
    assert problem.startswith("flows/x.yaml:10 state 'unsafe': ")
    assert "'menu', 'question', 'text', 'end'" in problem


def test_unknown_field_is_refused_not_ignored() -> None:
    (problem,) = refused(CHECK.replace("max_length: 20", "max_lenght: 20"))
    assert problem == "flows/x.yaml:38 state 'describe': max_lenght: Extra inputs are not permitted"


def test_state_defined_twice_is_refused_with_line() -> None:
    twice = CHECK + "  unsafe:\n    type: end\n    text: Again.\n"
    assert refused(twice) == ["flows/x.yaml:46: 'unsafe' is defined twice"]


def test_missing_start_state() -> None:
    (problem,) = refused(CHECK.replace("start: safe", "start: begin"))
    assert problem.startswith("flows/x.yaml") and "start state 'begin' is not defined" in problem


def test_not_a_mapping() -> None:
    assert refused("- just\n- a list\n") == [
        "flows/x.yaml: a flow file must be a mapping with flow, start, states"
    ]
    assert refused("") == ["flows/x.yaml: a flow file must be a mapping with flow, start, states"]


def test_yes_and_no_stay_words() -> None:
    loaded = load_text(CHECK, "flows/x.yaml")
    safe = loaded.definition.states["safe"]
    assert isinstance(safe, QuestionState)
    assert safe.next == {"yes": "danger", "no": "unsafe", "skip": "unsafe"}


def test_version_is_content_hash() -> None:
    one = load_text(CHECK, "a.yaml")
    assert one.version == load_text(CHECK, "b.yaml").version
    assert (
        one.version != load_text(CHECK.replace("Come back", "Please come back"), "a.yaml").version
    )
    assert len(one.version) == 12


def test_an_issue_names_its_source_line_state_and_language() -> None:
    """Printed as ``source:line: state 'x' [lang]: reason`` (a file path for flow files)."""
    issue = FlowIssue("flows/x.yaml", "too long", state="ask", lang="fr", line=7)
    assert str(issue) == "flows/x.yaml:7 state 'ask' [fr]: too long"
    assert str(FlowIssue("follow@3", "no flow")) == "follow@3: no flow"
