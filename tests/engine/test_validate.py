"""Static validation: each kind of broken flow is refused with file, state, language and reason."""

from __future__ import annotations

import pytest

from bot.channels.renderers import screen_checks
from bot.engine.loader import load_text
from bot.engine.validate import Catalog, validate
from bot.i18n.catalog import Catalogs
from tests.engine.conftest import CHECK, MAIN, tagged_catalogs

OPTIONS = (
    '      - {label: Check my situation, next: "check:"}\n      - {label: Get help, next: help}'
)


def problems(*texts: str, catalogs: Catalogs | None = None) -> list[str]:
    loaded = [load_text(t, f"flows/{i}.yaml") for i, t in enumerate(texts)]
    cats = catalogs or tagged_catalogs(*loaded)
    issues = validate(loaded, Catalog(cats.gettext, cats.has), screen_checks(cats.gettext))
    return [str(i) for i in issues]


def test_the_test_flows_are_valid() -> None:
    assert problems(MAIN, CHECK) == []


def test_unknown_target_state() -> None:
    broken = CHECK.replace("next: promised", "next: promized")
    found = problems(MAIN, broken)
    assert found[0] == "flows/1.yaml:12 state 'danger': answer goes to unknown state 'promized'"
    assert "flows/1.yaml:17 state 'promised': unreachable: nothing leads here from 'safe'" in found


def test_unknown_flow_and_state_in_another_flow() -> None:
    assert problems(MAIN.replace('"check:"', '"chek:"'), CHECK) == [
        "flows/0.yaml:12 state 'menu': option 1 goes to unknown flow 'chek'"
    ]
    assert problems(MAIN.replace('"check:"', '"check:nowhere"'), CHECK) == [
        "flows/0.yaml:12 state 'menu': option 1 goes to unknown state 'nowhere' in flow 'check'"
    ]


def test_unreachable_state() -> None:
    orphan = CHECK + "  orphan:\n    type: end\n    text: Nobody comes here.\n"
    assert problems(MAIN, orphan) == [
        "flows/1.yaml:46 state 'orphan': unreachable: nothing leads here from 'safe'"
    ]


def test_dead_end_menu_without_options() -> None:
    broken = MAIN.replace(
        OPTIONS + "\n",
        "",
    ).replace("options:\n  help:", "options: []\n  help:")
    assert "flows/0.yaml:12 state 'menu': dead end: a menu with no options (nothing leads on)" in (
        problems(broken, CHECK)
    )


def test_dead_end_when_no_branch_is_unconditional() -> None:
    broken = CHECK.replace("      - {to: describe}\n", "")
    assert problems(MAIN, broken)[0] == (
        "flows/1.yaml:22 state 'id_taken': dead end: answer has no branch without 'when', so "
        "nothing leads on when no condition holds"
    )


def test_dead_end_when_an_answer_has_no_way_forward() -> None:
    broken = CHECK.replace(
        "next: {yes: danger, no: unsafe, skip: unsafe}", "next: {yes: danger, no: unsafe}"
    )
    assert problems(MAIN, broken) == [
        "flows/1.yaml:5 state 'safe': dead end: no way forward for answer skip"
    ]


def test_loop_with_no_way_out() -> None:
    looping = """
flow: loop
start: a
states:
  a:
    type: menu
    text: Screen A
    options:
      - {label: To B, next: b}
      - {label: Finish, next: done}
  b:
    type: menu
    text: Screen B
    options:
      - {label: To C, next: c}
  c:
    type: menu
    text: Screen C
    options:
      - {label: To B, next: b}
  done:
    type: end
    text: Done.
"""
    assert problems(looping) == [
        "flows/0.yaml:11 state 'b': a loop with no way out: no end screen can be reached from here",
        "flows/0.yaml:16 state 'c': a loop with no way out: no end screen can be reached from here",
    ]


def test_duplicate_and_reserved_option_keys() -> None:
    broken = MAIN.replace("{label: Get help, next: help}", "{key: 1, label: Get help, next: help}")
    assert problems(broken, CHECK) == ["flows/0.yaml:12 state 'menu': duplicate option key '1'"]
    reserved = MAIN.replace(
        "{label: Get help, next: help}", "{key: 98, label: Get help, next: help}"
    )
    assert problems(reserved, CHECK) == [
        "flows/0.yaml:12 state 'menu': option key '98' is reserved (0 exit, 00 back, 98 more)"
    ]
    wordy = MAIN.replace("{label: Get help, next: help}", "{key: h, label: Get help, next: help}")
    assert problems(wordy, CHECK) == [
        "flows/0.yaml:12 state 'menu': option key 'h' must be a number from 1 to 97"
    ]


def test_unknown_action_and_bad_arguments() -> None:
    broken = CHECK.replace(
        "{score: indicators}]}\n    next: id_taken", "{scor: indicators}]}\n    next: id_taken"
    )
    (problem,) = problems(MAIN, broken)
    assert problem.startswith("flows/1.yaml:17 state 'promised': unknown action 'scor' (known: ")
    assert "score" in problem and "set_priority" in problem
    bad_level = CHECK.replace("level: P1", "level: P0")
    assert problems(MAIN, bad_level) == [
        "flows/1.yaml:12 state 'danger': 'set_priority' level must be one of P1, P2, P3, P4"
    ]


def test_unknown_condition_and_unrecorded_answer() -> None:
    broken = CHECK.replace(
        "{score: {name: indicators, at_least: 2}}", "{scores: {name: indicators}}"
    )
    (problem,) = problems(MAIN, broken)
    assert problem.startswith("flows/1.yaml:22 state 'id_taken': unknown condition 'scores'")
    unrecorded = CHECK.replace(
        "{score: {name: indicators, at_least: 2}}", "{answer: {id: Q99, is: yes}}"
    )
    assert problems(MAIN, unrecorded) == [
        "flows/1.yaml:22 state 'id_taken': condition tests answer 'Q99' that no screen records"
    ]


@pytest.mark.parametrize("lang", ["fr", "ln", "st"])
def test_missing_translation_names_the_language(lang: str) -> None:
    loaded = [load_text(MAIN, "flows/0.yaml"), load_text(CHECK, "flows/1.yaml")]
    catalogs = tagged_catalogs(*loaded)
    del catalogs.messages[lang]["Come back when it is safe."]
    assert problems(MAIN, CHECK, catalogs=catalogs) == [
        f"flows/1.yaml:9 state 'unsafe' [{lang}]: "
        "missing translation of 'Come back when it is safe.'"
    ]


def test_texts_are_checked_only_in_the_flows_named() -> None:
    loaded = [load_text(MAIN, "flows/0.yaml"), load_text(CHECK, "flows/1.yaml")]
    catalogs = tagged_catalogs(*loaded)
    del catalogs.messages["fr"]["Come back when it is safe."]
    catalog = Catalog(catalogs.gettext, catalogs.has)
    checks = screen_checks(catalogs.gettext)
    main = loaded[0].name
    assert validate(loaded, catalog, checks, texts_of={main}) == []  # a draft among versions
    assert len(validate(loaded, catalog, checks, texts_of={loaded[1].name})) == 1


def test_ussd_screen_too_long_after_translation_and_folding() -> None:
    loaded = [load_text(MAIN, "flows/0.yaml"), load_text(CHECK, "flows/1.yaml")]
    catalogs = tagged_catalogs(*loaded)
    # 100 "ɛ" fold to 100 "e": fits; 190 do not fit a 182-character screen
    catalogs.messages["ln"]["Come back when it is safe."] = "ɛ" * 190
    assert problems(MAIN, CHECK, catalogs=catalogs) == [
        "flows/1.yaml:9 state 'unsafe' [ln]: USSD screen page 1 is 190/182 characters after folding"
    ]


def test_menu_that_paginates_is_fine_but_an_option_too_long_for_any_page_is_not() -> None:
    many = "\n".join(
        f"      - {{label: Option number {i} with a long label, next: help}}" for i in range(1, 13)
    )
    paged = MAIN.replace(
        OPTIONS,
        '      - {label: Check my situation, next: "check:"}\n' + many,
    )
    assert problems(paged, CHECK) == []
    huge = MAIN.replace(
        "{label: Get help, next: help}", "{label: " + "Help " * 40 + ", next: help}"
    )
    (problem, *_) = problems(huge, CHECK)
    assert problem.startswith("flows/0.yaml:12 state 'menu' [en]: USSD screen page 2 is ")


def test_unknown_placeholder() -> None:
    broken = MAIN.replace("Call {hotline_number}.", "Call {hotline}.")
    (problem,) = problems(broken, CHECK)
    assert problem.startswith(
        "flows/0.yaml:18 state 'help': unknown placeholder {hotline} in 'Call {hotline}.'"
    )


def test_translation_with_other_placeholders() -> None:
    loaded = [load_text(MAIN, "flows/0.yaml"), load_text(CHECK, "flows/1.yaml")]
    catalogs = tagged_catalogs(*loaded)
    catalogs.messages["fr"]["Call {hotline_number}."] = "Appelez le {numero}."
    assert problems(MAIN, CHECK, catalogs=catalogs) == [
        "flows/0.yaml:18 state 'help' [fr]: translation of 'Call {hotline_number}.' has other "
        "placeholders"
    ]


def test_same_flow_name_twice() -> None:
    assert (
        problems(MAIN, CHECK, CHECK)[0]
        == "flows/2.yaml: flow 'check' is also defined in flows/1.yaml"
    )


def test_shipped_flows_are_valid(shipped: object) -> None:
    from pathlib import Path

    from bot.content.files import check_flows

    root = Path(str(shipped))
    _, issues = check_flows([root], Catalogs.load(root.parent / "locales"))
    assert [str(i) for i in issues] == []


def test_unknown_answer_format_is_refused() -> None:
    broken = CHECK.replace("max_length: 20", "max_length: 20\n    format: postcode")
    (found,) = problems(MAIN, broken)
    assert found.startswith("flows/1.yaml:36 state 'describe': unknown format 'postcode'")
    assert "(known: reference)" in found  # `area` comes with areas data: answer_formats(tree)
