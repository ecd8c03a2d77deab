"""Test flows exercising every state type, action and condition, and a catalog covering them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.compile import compile_flow
from bot.engine.loader import LoadedFlow, load_text
from bot.engine.registry import FlowRegistry
from bot.engine.validate import Catalog, flow_texts, validate
from bot.i18n import ui
from bot.i18n.catalog import Catalogs

MAIN = """
flow: main
start: language
states:
  language:
    type: menu
    text: "Choose your language:"
    back: false
    options:
      - {label: English, translate: false, do: [{set_language: en}], next: menu}
      - {label: Francais, translate: false, do: [{set_language: fr}], next: menu}
  menu:
    type: menu
    text: Main menu
    options:
      - {label: Check my situation, next: "check:"}
      - {label: Get help, next: help}
  help:
    type: end
    text: Call {hotline_number}.
"""

CHECK = """
flow: check
start: safe
states:
  safe:
    type: question
    text: Is it safe to answer now?
    next: {yes: danger, no: unsafe, skip: unsafe}
  unsafe:
    type: end
    text: Come back when it is safe.
  danger:
    type: question
    text: Are you in danger right now?
    do: {yes: [{set_priority: {level: P1, rule: U1 danger now}}]}
    next: promised
  promised:
    type: question
    text: Was the job different from what was promised?
    do: {yes: [{score: indicators}]}
    next: id_taken
  id_taken:
    type: question
    text: Did someone take your ID?
    do: {yes: [{score: indicators}]}
    next:
      - {when: {score: {name: indicators, at_least: 2}}, to: callback}
      - {to: describe}
  callback:
    type: menu
    text: Do you want a call back?
    record: callback
    options:
      - {label: Yes please, do: [{set_priority: {level: P2, rule: two indicators}}], next: describe}
      - {label: No thanks, next: describe}
  describe:
    type: text
    text: Say in a few words what happens.
    max_length: 20
    optional: true
    next: done
  done:
    type: end
    text: Thank you. Your reference is {reference}.
    on_enter: [{emit: screening_completed}]
"""

UI = [
    ui.YES,
    ui.NO,
    ui.SKIP,
    ui.EXIT,
    ui.BACK,
    ui.MORE,
    ui.HINT_CHOICE,
    ui.HINT_TEXT,
    ui.HINT_REFERENCE,
    ui.CUT,
    ui.GOODBYE,
    ui.RESTARTED,
]


def tagged_catalogs(*flows: LoadedFlow) -> Catalogs:
    """Every text translated as ``<LANG> text`` so tests can see which language is shown."""
    texts = [t for f in flows for _, t in flow_texts(f.definition)] + UI
    return Catalogs(
        {
            "en": {},
            **{lang: {t: f"{lang.upper()} {t}" for t in texts} for lang in ("fr", "ln", "st")},
        }
    )


def build(*texts: str) -> tuple[FlowRegistry, Catalogs]:
    """Load, validate (must be clean) and compile flows from YAML texts."""
    loaded = [load_text(t, f"{i}.yaml") for i, t in enumerate(texts)]
    catalogs = tagged_catalogs(*loaded)
    issues = validate(loaded, Catalog(catalogs.gettext, catalogs.has))
    assert issues == [], [str(i) for i in issues]
    return FlowRegistry(compile_flow(f) for f in loaded), catalogs


@pytest.fixture
def flows() -> tuple[FlowRegistry, Catalogs]:
    """The main and check test flows."""
    return build(MAIN, CHECK)


@pytest.fixture
def shipped() -> Path:
    """The shipped flows folder."""
    return Path(__file__).resolve().parents[2] / "flows"
