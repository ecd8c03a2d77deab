"""The saved state: every field survives the session store, and turns fill placeholders."""

from __future__ import annotations

import json
from dataclasses import fields

from bot.engine.state import Choice, SessionState, Turn, fill


def test_to_dict_carries_every_field_through_json() -> None:
    state = SessionState(
        flow="check",
        version="v1",
        state="q1",
        lang="st",
        answers={"U1": "yes"},
        scores={"indicators": 1},
        priority="P2",
        rule="Q7 violence",
        inputs=["1", "2"],
        origin=["main", "v1", "language", "en"],
        page=1,
        memo={"request": "1*2"},
        sid="s1",
        notice="Please reply with one of the numbers shown.",
        channel="telegram",
    )
    data = state.to_dict()
    assert set(data) == {f.name for f in fields(SessionState)}, "a new field must be saved too"
    assert SessionState.from_dict(json.loads(json.dumps(data))) == state
    data["answers"]["U1"] = "no"
    assert state.answers == {"U1": "yes"}, "the saved dict is a copy"


def test_fields_at_their_default_are_left_out_of_the_stored_dict() -> None:
    state = SessionState(flow="main", version="v1", state="menu", lang="fr", sid="s1")
    data = state.to_dict()
    assert set(data) == {"flow", "version", "state", "lang", "inputs", "origin", "sid"}
    assert SessionState.from_dict(json.loads(json.dumps(data))) == state


def test_fill_keeps_unknown_placeholders() -> None:
    assert fill("Ref {reference}, call {hotline_number}", {"reference": "K7QM-42"}) == (
        "Ref K7QM-42, call {hotline_number}"
    )
    turn = Turn(
        text="Ref {reference}",
        lang="en",
        options=(Choice("1", "Yes"),),
        notice="Cut to {max_length}",
    )
    filled = turn.format({"reference": "K7QM-42", "max_length": "140"})
    assert (filled.text, filled.notice, filled.options) == (
        "Ref K7QM-42",
        "Cut to 140",
        turn.options,
    )
