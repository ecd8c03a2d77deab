"""Measure one engine step (restore JSON, advance, save JSON) on a 30-state flow: time and memory.

Run ``python -m bench.engine_step [--steps N]``. A step is exactly what one request does with
the shared compiled machine; the timing pass runs without tracemalloc, the memory pass after it.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import math
import os
import platform
import pstats
import random
import resource
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version as package_version
from pathlib import Path

from bot.engine.compile import QUESTION_KEYS, compile_flow, menu_keys
from bot.engine.loader import LoadedFlow, load_text
from bot.engine.model import EndState, MenuState, QuestionState, TextState
from bot.engine.registry import FlowRegistry
from bot.engine.runner import BACK_KEY, Translate, advance, begin
from bot.engine.state import SessionState, Step
from bot.engine.validate import LANGUAGES, Catalog, flow_texts, validate
from bot.i18n import ui
from bot.i18n.catalog import Catalogs

FLOW_FILE = Path(__file__).resolve().parent / "flows" / "bench30.yaml"
AIM_US = 200.0
INVALID = "7"
INVALID_SHARE = 0.05
BACK_SHARE = 0.05
WORDS = (
    "they took my passport and I cannot leave the farm the boss says I owe money for the "
    "transport and food we work every day from morning to night my sister is also there"
).split()

Request = Callable[[FlowRegistry, str, str, Translate], tuple[Step, str | None]]


@dataclass(frozen=True)
class Setup:
    """The validated, compiled flow and its catalogs, as the bot would hold them at start-up."""

    loaded: LoadedFlow
    registry: FlowRegistry
    catalogs: Catalogs


def tagged_catalogs(loaded: LoadedFlow) -> Catalogs:
    """Every flow and UI text translated as ``<LANG> text``, like the tests, so nothing is missing."""
    ui_texts = [v for k, v in vars(ui).items() if k.isupper() and isinstance(v, str)]
    texts = [t for _, t in flow_texts(loaded.definition)] + ui_texts
    tagged = {lang: {t: f"{lang.upper()} {t}" for t in texts} for lang in LANGUAGES[1:]}
    return Catalogs({"en": {}, **tagged})


def build(path: Path = FLOW_FILE) -> Setup:
    """Load, validate (must be clean) and compile the benchmark flow into a registry."""
    loaded = load_text(path.read_text(encoding="utf-8"), path.name)
    catalogs = tagged_catalogs(loaded)
    issues = validate([loaded], Catalog(catalogs.gettext, catalogs.has))
    if issues:
        raise SystemExit("benchmark flow is invalid:\n" + "\n".join(str(i) for i in issues))
    return Setup(loaded, FlowRegistry([compile_flow(loaded)]), catalogs)


def request(registry: FlowRegistry, stored: str, raw: str, tr: Translate) -> tuple[Step, str | None]:
    """One request on the shared machine: restore from the store's JSON, advance, serialise back."""
    step = advance(registry, SessionState.from_dict(json.loads(stored)), raw, tr)
    return step, json.dumps(step.state.to_dict()) if step.state is not None else None


def request_fresh_machine(
    registry: FlowRegistry, stored: str, raw: str, tr: Translate
) -> tuple[Step, str | None]:
    """The rejected design: build a new Machine for every request, then do the same step."""
    compiled = registry.get(json.loads(stored)["flow"])
    assert compiled is not None
    return request(FlowRegistry([compile_flow(compiled.loaded)]), stored, raw, tr)


@dataclass
class Driver:
    """Simulated people in interleaved sessions kept as JSON; picks inputs outside the timing."""

    setup: Setup
    seed: int
    sessions: int
    rng: random.Random = field(init=False)
    store: list[str] = field(init=False)
    where: list[str] = field(init=False)
    visited: set[str] = field(init=False, default_factory=set)
    endings: Counter[str] = field(init=False, default_factory=Counter)
    events: Counter[str] = field(init=False, default_factory=Counter)
    turn: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        definition = self.setup.loaded.definition
        tr = self.setup.catalogs.gettext
        self._end_by_text = {
            tr(lang, s.text): name
            for name, s in definition.states.items()
            if isinstance(s, EndState)
            for lang in LANGUAGES
        }
        self.store, self.where = [], []
        for _ in range(self.sessions):
            self.store.append("")
            self.where.append("")
            self._start(len(self.store) - 1)

    def _start(self, slot: int) -> None:
        """A new conversation: what the bot does when a person with no session writes."""
        lang = self.rng.choice(LANGUAGES)
        step = begin(self.setup.registry, self.setup.loaded.name, lang, self.setup.catalogs.gettext)
        assert step.state is not None
        self.store[slot] = json.dumps(step.state.to_dict())
        self.where[slot] = step.state.state
        self.visited.add(step.state.state)

    def next_request(self) -> tuple[int, str, str]:
        """(session slot, its stored JSON, the person's next input), round-robin over sessions."""
        slot = self.turn % self.sessions
        self.turn += 1
        return slot, self.store[slot], self._input(self.where[slot])

    def _input(self, name: str) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < INVALID_SHARE:
            return INVALID
        if roll < INVALID_SHARE + BACK_SHARE:
            return BACK_KEY
        screen = self.setup.loaded.definition.states[name]
        if isinstance(screen, MenuState):
            keys = menu_keys(screen)
            if name == "menu":  # most people come to check their situation or to report
                return rng.choices(keys, weights=(20, 50, 8, 7, 8, 7))[0]
            return rng.choice(keys)
        if isinstance(screen, QuestionState):
            weights = (90, 7, 3) if name == "safe" else (30, 55, 15)
            return rng.choices(list(QUESTION_KEYS), weights=weights)[0]
        assert isinstance(screen, TextState)
        if screen.optional and rng.random() < 0.15:
            return ""
        return " ".join(rng.choices(WORDS, k=rng.randint(1, 45)))

    def record(self, slot: int, step: Step, saved: str | None) -> None:
        """Store what the request saved; start a new conversation when this one ended."""
        for event in step.events:
            self.events[event.name] += 1
        if saved is None or step.state is None:
            self.endings[self._end_by_text.get(step.turn.text, "exit")] += 1
            self.visited.add(self._end_by_text.get(step.turn.text, "exit"))
            self._start(slot)
            return
        self.store[slot] = saved
        self.where[slot] = step.state.state
        self.visited.add(step.state.state)


