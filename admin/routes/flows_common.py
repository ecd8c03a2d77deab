"""What the flow editor's screens share: the draft or 404, its texts in every language, its
outline as the page shows it (states, texts side by side, ways out, actions, fit meters).

The rules are ``bot.content.versions``' (drafts, publishing) and ``bot.content.fit``'s (meters);
this module only shapes them for the templates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException
from pydantic import ValidationError
from sqlmodel import Session

from admin.routes import flows_words as words
from admin.routes.flows_words import Phrase
from bot.content import outline, versions
from bot.content.files import Content
from bot.content.fit import ScreenFit, screen_fit
from bot.content.outline import OutlineError, Way
from bot.content.store import MISSING, Draft, Entry, Translations, Version
from bot.core.languages import LANGUAGES, SOURCE
from bot.engine.loader import FlowIssue, FlowLoadError, LoadedFlow, load_text
from bot.engine.model import (
    AreaState,
    Branch,
    FlowDefinition,
    MenuState,
    QuestionState,
    Target,
    TextState,
)
from bot.i18n.translate import Translate

TRANSLATED = LANGUAGES[1:]
MAX_FIELD = 2000
"""The longest text a field of the editor takes (a USSD screen is 182 characters)."""


def draft_of(db: Session, flow: str) -> Draft:
    """The flow's draft, or 404."""
    try:
        return versions.get_draft(db, flow)
    except versions.UnknownFlow:
        raise HTTPException(status_code=404, detail="no such flow") from None


def version_of(db: Session, flow: str, number: int) -> Version:
    """A published version, or 404."""
    try:
        return versions.get_version(db, flow, number)
    except versions.UnknownFlow:
        raise HTTPException(status_code=404, detail="no such version") from None


def plain_texts(translations: Translations) -> dict[str, dict[str, str]]:
    """Language -> English -> the translation's text (entries without one left out)."""
    return {
        lang: {msgid: e.text for msgid, e in entries.items() if e.text}
        for lang, entries in translations.items()
    }


def translate_with(content: Content, translations: Translations) -> Translate:
    """Translate with a draft's or version's own texts first, then the running catalogs (the
    code's strings: Back, Exit, More, the hints)."""
    texts = plain_texts(translations)

    def tr(lang: str, msgid: str) -> str:
        if lang != SOURCE and (found := texts.get(lang, {}).get(msgid)):
            return found
        return content.tr(lang, msgid)

    return tr


def definition(source: str) -> FlowDefinition | None:
    """The flow as typed (area states not expanded), or None when it does not parse."""
    try:
        return FlowDefinition.model_validate(outline.load(source))
    except (OutlineError, ValidationError):
        return None


def loaded(source: str, flow: str, content: Content) -> LoadedFlow | None:
    """The flow as it runs (area states expanded), or None when it does not load."""
    try:
        return load_text(source, f"{flow}@draft", content.areas)
    except FlowLoadError:
        return None


@dataclass(frozen=True)
class TextRow:
    """One translated text of a state: the English and each language's entry."""

    field: str
    """``text`` or ``label:N`` (the form's fields are ``<lang>:<field>``)."""
    english: str
    translated: dict[str, Entry]
    translate: bool = True


@dataclass(frozen=True)
class WayRow:
    """One way out an admin may point elsewhere: how (option 2, yes, any answer), the
    condition of its branch if it has one, and where it leads."""

    key: str
    """The form field after ``to:``: ``option:2``, ``answer:yes``, ``next``, ``next:1``."""
    via: str
    when: Phrase | None
    target: str


@dataclass
class StateRow:
    """A state as the outline shows it."""

    name: str
    kind: str
    start: bool
    texts: list[TextRow] = field(default_factory=list)
    ways: list[WayRow] = field(default_factory=list)
    actions: list[tuple[str, Phrase]] = field(default_factory=list)
    """(when: ``on entry``, ``option 2``, ``yes``..., the action in words)."""
    settings: dict[str, str] = field(default_factory=dict)
    issues: list[FlowIssue] = field(default_factory=list)
    fits: dict[str, ScreenFit | None] = field(default_factory=dict)
    options: int = 0


def _ways(key: str, via: str, target: Target) -> list[WayRow]:
    if isinstance(target, str):
        return [WayRow(key, via, None, target)]
    return [_branch(key, via, number, b) for number, b in enumerate(target)]


def _branch(key: str, via: str, number: int, branch: Branch) -> WayRow:
    when = words.condition(branch.when) if branch.when is not None else None
    return WayRow(f"{key}:{number}", via, when, branch.to)


def state_rows(
    flow: FlowDefinition,
    translations: Translations,
    issues: list[FlowIssue],
    fitted: LoadedFlow | None,
    tr: Translate,
) -> list[StateRow]:
    """Every state of the flow, in order, with what the outline shows of it."""
    rows = []
    for name, state in flow.states.items():
        row = StateRow(name, state.type, name == flow.start)

        def entries(english: str) -> dict[str, Entry]:
            return {lang: translations.get(lang, {}).get(english, MISSING) for lang in TRANSLATED}

        row.texts.append(TextRow("text", state.text, entries(state.text)))
        row.actions.extend(("entry", words.action(a)) for a in state.on_enter)
        if isinstance(state, MenuState):
            row.options = len(state.options)
            for number, option in enumerate(state.options, start=1):
                row.texts.append(
                    TextRow(
                        f"label:{number}", option.label, entries(option.label), option.translate
                    )
                )
                row.ways.extend(_ways(f"option:{number}", str(number), option.next))
                row.actions.extend((str(number), words.action(a)) for a in option.do)
            if state.record:
                row.settings["record"] = state.record
        elif isinstance(state, QuestionState):
            if isinstance(state.next, dict):
                for answer, target in state.next.items():
                    row.ways.extend(_ways(f"answer:{answer}", answer, target))
            else:
                row.ways.extend(_ways("next", "any", state.next))
            for when, actions in state.do.items():
                row.actions.extend((when, words.action(a)) for a in actions)
            row.settings["record"] = state.record or name
        elif isinstance(state, TextState | AreaState):
            row.ways.extend(_ways("next", "any", state.next))
            if isinstance(state, TextState):
                row.actions.extend(("any", words.action(a)) for a in state.do)
                row.settings.update(
                    {"record": state.record or name, "max_length": str(state.max_length)}
                )
                if state.format:
                    row.settings["format"] = state.format
            else:
                row.settings["record"] = state.record
        row.issues = [i for i in issues if i.state == name]
        row.fits = {
            lang: screen_fit(fitted, name, lang, tr) if fitted is not None else None
            for lang in LANGUAGES
        }
        rows.append(row)
    return rows


def way(key: str) -> Way:
    """A form's ``to:`` field name as the outline's Way (``next:1`` -> branch 1 of next)."""
    parts = key.split(":")
    if parts[0] == "next":
        return Way("next", int(parts[1]) if len(parts) > 1 else None)
    if len(parts) in (2, 3) and parts[0] in ("option", "answer"):
        return Way(f"{parts[0]}:{parts[1]}", int(parts[2]) if len(parts) == 3 else None)
    raise OutlineError(f"not a way out: {key!r}")


def current_target(flow: FlowDefinition, state: str, key: str) -> str | None:
    """Where the way ``key`` of ``state`` leads now (None when there is no such way)."""
    rows = state_rows_plain(flow, state)
    return next((w.target for w in rows if w.key == key), None)


def state_rows_plain(flow: FlowDefinition, state: str) -> list[WayRow]:
    """The ways out of one state."""
    found = flow.states.get(state)
    if found is None:
        return []
    if isinstance(found, MenuState):
        return [
            w
            for number, o in enumerate(found.options, start=1)
            for w in _ways(f"option:{number}", str(number), o.next)
        ]
    if isinstance(found, QuestionState) and isinstance(found.next, dict):
        return [w for a, t in found.next.items() for w in _ways(f"answer:{a}", a, t)]
    if isinstance(found, QuestionState) and not isinstance(found.next, dict):
        return _ways("next", "any", found.next)
    if isinstance(found, TextState | AreaState):
        return _ways("next", "any", found.next)
    return []


def choices(flow: FlowDefinition, flows: list[str]) -> list[str]:
    """Every target a way may be pointed at: this flow's states, then the other flows."""
    data: dict[str, Any] = {"flow": flow.flow, "states": dict(flow.states)}
    return outline.targets(data, dict.fromkeys(sorted(flows), ""))
