"""The pure runner: what a person sees and what is recorded, step by step."""

from __future__ import annotations

from bot.content.files import Content
from bot.engine.registry import FlowRegistry
from bot.engine.runner import advance, begin
from bot.engine.state import SessionState, Step
from bot.i18n import ui
from bot.i18n.catalog import Catalogs
from tests.engine.conftest import build

Flows = tuple[FlowRegistry, Catalogs]


def walk(flows: Flows, inputs: list[str], *, flow: str = "check", lang: str = "en") -> Step:
    registry, catalogs = flows
    step = begin(registry, flow, lang, catalogs.gettext)
    for raw in inputs:
        assert step.state is not None, f"conversation ended before input {raw!r}"
        step = advance(registry, step.state, raw, catalogs.gettext)
    return step


def test_first_screen_offers_yes_no_skip_and_exit(flows: Flows) -> None:
    step = walk(flows, [])
    assert step.turn.text == "Is it safe to answer now?"
    assert [(c.key, c.label) for c in step.turn.options] == [
        ("1", "Yes"),
        ("2", "No"),
        ("3", "Skip"),
    ]
    assert [(c.key, c.label) for c in step.turn.navigation] == [("0", "Exit")]
    assert step.state is not None and step.state.state == "safe"


def test_not_safe_now_ends_and_emits_nothing(flows: Flows) -> None:
    step = walk(flows, ["2"])
    assert step.turn.end and step.turn.text == "Come back when it is safe."
    assert step.state is None
    assert step.events == ()


def test_full_path_scores_raises_priority_cuts_text_and_emits_once(flows: Flows) -> None:
    step = walk(flows, ["1", "1", "1", "1"])
    assert step.state is not None and step.state.state == "callback"  # two indicators
    assert step.state.priority == "P1" and step.state.rule == "U1 danger now"
    step = walk(flows, ["1", "1", "1", "1", "1"])
    assert step.state is not None
    assert step.state.priority == "P1", "a lower priority must never replace P1"
    assert step.turn.expects == "text" and step.turn.max_length == 20
    step = walk(flows, ["1", "1", "1", "1", "1", "they keep our passports at the farm"])
    assert step.turn.end and step.state is None
    assert step.turn.text == "Thank you. Your reference is {reference}."
    assert (
        step.turn.format({"reference": "K7QM-42"}).text == "Thank you. Your reference is K7QM-42."
    )
    assert step.turn.notice == "Your text was cut to 20 characters."
    (event,) = step.events
    assert event.name == "screening_completed"
    assert event.payload["answers"] == {
        "safe": "yes",
        "danger": "yes",
        "promised": "yes",
        "id_taken": "yes",
        "callback": "1",
        "describe": "they keep our passpo",
    }
    assert event.payload["scores"] == {"indicators": 2}
    assert event.payload["priority"] == "P1"
    assert event.payload["rule"] == "U1 danger now"


def test_condition_false_takes_fallback_branch(flows: Flows) -> None:
    step = walk(flows, ["1", "2", "1", "2"])
    assert step.state is not None and step.state.state == "describe"
    assert step.state.scores == {"indicators": 1}
    assert step.state.priority is None


def test_skip_scores_nothing_and_is_recorded(flows: Flows) -> None:
    step = walk(flows, ["1", "3", "3", "3"])
    assert step.state is not None
    assert step.state.answers == {
        "safe": "yes",
        "danger": "skip",
        "promised": "skip",
        "id_taken": "skip",
    }
    assert step.state.scores == {}


def test_unknown_choice_shows_same_screen_with_hint_and_changes_nothing(flows: Flows) -> None:
    before = walk(flows, ["1"])
    for bad in ["7", "", "yes", "1*2", "#", "🙂"]:
        step = walk(flows, ["1", bad])
        assert step.state is not None and step.state.state == "danger", bad
        assert step.turn.notice == "Please reply with one of the numbers shown.", bad
        assert step.state.inputs == before.state.inputs if before.state else False
        assert step.events == ()


def test_hint_is_in_the_persons_language(flows: Flows) -> None:
    step = walk(flows, ["2", "7"], flow="main", lang="fr")
    assert step.turn.notice == "FR Please reply with one of the numbers shown."
    assert step.turn.text == "FR Main menu"


def test_exit_from_any_screen_ends_without_events(flows: Flows) -> None:
    for prefix in ([], ["1"], ["1", "1", "1", "1"], ["1", "1", "1", "1", "2"]):
        step = walk(flows, [*prefix, "0"])
        assert step.turn.end and step.state is None, prefix
        assert step.turn.text == ui.GOODBYE
        assert step.events == ()


def test_back_returns_to_previous_screen_without_counting_twice(flows: Flows) -> None:
    step = walk(flows, ["1", "2", "1", "00"])
    assert step.state is not None and step.state.state == "promised"
    assert step.state.scores == {}, "going back undoes the score of the answer taken back"
    step = walk(flows, ["1", "2", "1", "00", "1"])
    assert step.state is not None and step.state.scores == {"indicators": 1}


def test_back_is_offered_only_where_there_is_somewhere_to_go(flows: Flows) -> None:
    first = walk(flows, [])
    assert "00" not in [c.key for c in first.turn.navigation]
    step = walk(flows, ["00"])
    assert step.state is not None and step.state.state == "safe"
    assert step.turn.notice == "Please reply with one of the numbers shown."
    second = walk(flows, ["1"])
    assert [c.key for c in second.turn.navigation] == ["00", "0"]


def test_menu_back_false_hides_back(flows: Flows) -> None:
    step = walk(flows, [], flow="main")
    assert [c.key for c in step.turn.navigation] == ["0"]


def test_language_choice_changes_language_of_following_screens(flows: Flows) -> None:
    step = walk(flows, ["2"], flow="main", lang="en")
    assert step.state is not None and step.state.lang == "fr"
    assert step.turn.text == "FR Main menu"
    assert [c.label for c in step.turn.options] == ["FR Check my situation", "FR Get help"]
    assert [c.label for c in step.turn.navigation] == ["FR Back", "FR Exit"]


def test_untranslated_labels_stay_as_written(flows: Flows) -> None:
    step = walk(flows, [], flow="main", lang="ln")
    assert step.turn.text == "LN Choose your language:"
    assert [c.label for c in step.turn.options] == ["English", "Francais"]


def test_option_leading_to_another_flow_starts_it(flows: Flows) -> None:
    step = walk(flows, ["1", "1"], flow="main")
    assert step.state is not None
    assert (step.state.flow, step.state.state) == ("check", "safe")
    assert step.turn.text == "Is it safe to answer now?"


def test_back_across_flows_returns_to_the_menu(flows: Flows) -> None:
    step = walk(flows, ["1", "1", "00"], flow="main")
    assert step.state is not None
    assert (step.state.flow, step.state.state) == ("main", "menu")


def test_optional_text_may_be_empty(flows: Flows) -> None:
    step = walk(flows, ["1", "2", "2", "2", ""])
    assert step.turn.end
    assert step.events[0].payload["answers"]["describe"] == ""


def test_advance_does_not_change_the_saved_state_it_was_given(flows: Flows) -> None:
    registry, catalogs = flows
    saved = walk(flows, ["1"]).state
    assert saved is not None
    snapshot = saved.to_dict()
    advance(registry, saved, "1", catalogs.gettext)
    advance(registry, saved, "7", catalogs.gettext)
    assert saved.to_dict() == snapshot


def test_saved_state_from_a_vanished_version_restarts_politely(flows: Flows) -> None:
    registry, catalogs = flows
    stale = SessionState(
        flow="check",
        version="gone",
        state="promised",
        lang="fr",
        origin=["main", "gone", "language", "fr"],
    )
    step = advance(registry, stale, "1", catalogs.gettext)
    assert step.state is not None and (step.state.flow, step.state.state) == ("main", "language")
    assert step.turn.notice == "FR Your last session had ended, so we started again."


def test_state_survives_a_json_round_trip(flows: Flows) -> None:
    registry, catalogs = flows
    saved = walk(flows, ["1", "1"]).state
    assert saved is not None
    restored = SessionState.from_dict({**saved.to_dict(), "added_by_a_newer_writer": 1})
    assert restored == saved
    assert (
        advance(registry, restored, "1", catalogs.gettext).state
        == walk(flows, ["1", "1", "1"]).state
    )


REFERENCE_FLOW = """
flow: follow
start: ask
states:
  ask:
    type: text
    text: Type your reference
    format: reference
    record: reference
    max_length: 20
    next: shown
  shown:
    type: end
    on_enter: [{emit: status_requested}]
    text: Looking it up.
"""

ANY_FLOW = """
flow: gate
start: q
states:
  q:
    type: question
    text: Question?
    do:
      yes: [{score: seen}]
      any: [{set_priority: {level: P3, rule: "two seen", when: {score: {name: seen, at_least: 1}}}},
            {set_priority: {level: P4, rule: "default"}}]
    next: after
  after:
    type: question
    text: Another?
    next: done
  done:
    type: end
    text: Done.
"""


def test_a_formatted_answer_is_stored_normalised() -> None:
    flows = build(REFERENCE_FLOW)
    step = walk(flows, ["k7qm 46"], flow="follow")
    assert step.turn.end
    (event,) = step.events
    assert event.payload["answers"] == {"reference": "K7QM-46"}


def test_an_answer_not_in_its_format_shows_the_screen_again_with_the_formats_hint() -> None:
    flows = build(REFERENCE_FLOW)
    step = walk(flows, ["hello"], flow="follow")
    assert step.state is not None and step.state.state == "ask"
    assert step.turn.notice == ui.HINT_REFERENCE
    assert step.state.inputs == [] and step.events == ()
    step = walk(flows, ["hello"], flow="follow", lang="fr")
    assert step.turn.notice == f"FR {ui.HINT_REFERENCE}"


def test_actions_under_any_run_after_the_answers_own() -> None:
    flows = build(ANY_FLOW)
    yes = walk(flows, ["1"], flow="gate")
    assert yes.state is not None
    assert (yes.state.priority, yes.state.rule) == ("P3", "two seen")
    no = walk(flows, ["2"], flow="gate")
    assert no.state is not None
    assert (no.state.priority, no.state.rule) == ("P4", "default")


def test_a_channel_condition_holds_after_going_back(shipped_content: Content) -> None:
    """The shipped call back offers a Telegram reply only on Telegram, also after ``00``."""
    registry, tr = shipped_content.registry, shipped_content.tr
    for channel, method in (("telegram", "method_telegram"), ("ussd", "method")):
        step = begin(registry, "help", "en", tr, channel=channel)
        for raw in ("1", "1", "00", "2"):
            assert step.state is not None
            step = advance(registry, step.state, raw, tr)
        assert step.state is not None and step.state.state == method, channel
        assert step.state.channel == channel
