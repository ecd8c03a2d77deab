"""The registry: a publish swaps the current versions whole, older ones stay for the
conversations on them (the latest few), and each version translates with its own wording."""

from __future__ import annotations

from dataclasses import replace

from bot.engine.compile import CompiledFlow, compile_flow
from bot.engine.loader import load_text
from bot.engine.registry import FlowRegistry
from bot.engine.runner import advance, begin
from bot.i18n.catalog import Catalogs
from tests.engine.conftest import CHECK, MAIN

FILES = Catalogs({"en": {}, "fr": {"Main menu": "Menu principal", "Exit": "Quitter"}})


def version(text: str, digest: str) -> CompiledFlow:
    """A flow compiled as a stored version named ``digest``."""
    loaded = load_text(text, "test.yaml")
    return compile_flow(replace(loaded, version=digest))


def test_a_publish_swaps_the_current_versions_and_keeps_the_old_ones_reachable() -> None:
    registry = FlowRegistry([version(MAIN, "m1"), version(CHECK, "c1")])
    registry.publish([(version(MAIN, "m2"), None)])
    assert [(f.name, f.version) for f in registry.current()] == [("check", "c1"), ("main", "m2")]
    old = registry.get("main", "m1")
    assert old is not None and old.version == "m1"  # a conversation on it finishes on it
    assert registry.get("main") is registry.get("main", "m2")


def test_only_the_latest_older_versions_are_kept() -> None:
    registry = FlowRegistry([version(MAIN, "m0")], keep=2)
    for n in range(1, 4):
        registry.publish([(version(MAIN, f"m{n}"), None)])
    assert registry.get("main", "m0") is None  # the least recently used went first
    assert registry.get("main", "m1") is not None and registry.get("main", "m2") is not None
    assert registry.get("main", "m3") is registry.get("main")


def test_a_version_kept_for_a_conversation_is_not_made_current() -> None:
    registry = FlowRegistry([version(MAIN, "m2")])
    registry.keep_version(version(MAIN, "m1"), {"fr": {"Main menu": "Menu d'avant"}})
    assert registry.get("main") is registry.get("main", "m2")
    assert registry.texts("main", "m1") == {"fr": {"Main menu": "Menu d'avant"}}


def test_each_version_speaks_its_own_wording_and_the_files_fill_in_the_rest() -> None:
    registry = FlowRegistry([version(MAIN, "m1")])
    registry.publish([(version(MAIN, "m2"), {"fr": {"Main menu": "Accueil"}})])
    started = begin(registry, "main", "fr", FILES.gettext, at="menu")
    assert started.turn.text == "Accueil"
    assert started.turn.navigation[-1].label == "Quitter"  # the words around: the files'
    assert started.state is not None
    old = replace(started.state, version="m1")
    again = advance(registry, old, "7", FILES.gettext)  # not an option: the same screen again
    assert again.turn.text == "Menu principal"  # m1 has no wording of its own: the files'


def test_a_copy_does_not_see_what_the_original_publishes() -> None:
    registry = FlowRegistry([version(MAIN, "m1")])
    mine = registry.copy()
    registry.publish([(version(MAIN, "m2"), None)])
    main = mine.get("main")
    assert main is not None and main.version == "m1"
