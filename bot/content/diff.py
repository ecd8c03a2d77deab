"""What changed between two versions of a flow: its structure, and its texts per language.

Structure: states added or removed; for a state in both, its kind, text, options (by position:
label, where it leads, actions), where it leads, its actions and other settings. Texts: each
text of a state in every language, the English being the source and the others looked up in
each side's own translations (so a reworded English text shows its translations beside it).
A side that does not parse is compared line by line instead.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.content.outline import OutlineError, load
from bot.core.languages import LANGUAGES, SOURCE

Texts = dict[str, dict[str, str]]
"""A version's translations: language -> English text -> its text in that language."""
What = Literal["state", "type", "text", "option", "label", "target", "actions", "setting"]


@dataclass(frozen=True)
class Change:
    """One difference, placed at its state (and option and language where it has them)."""

    state: str
    kind: Literal["added", "removed", "changed"]
    what: What
    detail: str = ""
    """The option's number or the setting's name."""
    before: str = ""
    after: str = ""
    lang: str | None = None


@dataclass(frozen=True)
class FlowDiff:
    """Every change from one version to another; ``lines`` when a side could not be read."""

    changes: list[Change] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not self.changes and not self.lines

    def states(self) -> list[str]:
        """The states that changed, in order of first change."""
        return list(dict.fromkeys(c.state for c in self.changes))


def compare(old_source: str, old_texts: Texts, new_source: str, new_texts: Texts) -> FlowDiff:
    """The changes from (old source, old translations) to (new source, new translations)."""
    try:
        old, new = load(old_source), load(new_source)
    except OutlineError:
        lines = difflib.unified_diff(
            old_source.splitlines(), new_source.splitlines(), "before", "after", lineterm=""
        )
        return FlowDiff(lines=list(lines))
    changes: list[Change] = []
    old_states: dict[str, Any] = old["states"]
    new_states: dict[str, Any] = new["states"]
    for name, state in new_states.items():
        if name not in old_states:
            changes.append(Change(str(name), "added", "state", after=_text(state)))
    for name, state in old_states.items():
        if name not in new_states:
            changes.append(Change(str(name), "removed", "state", before=_text(state)))
    for name, after in new_states.items():
        before = old_states.get(name)
        if isinstance(before, dict) and isinstance(after, dict):
            changes.extend(_state_changes(str(name), before, after))
            changes.extend(_text_changes(str(name), before, after, old_texts, new_texts))
    return FlowDiff(changes)


def _text(state: Any) -> str:
    return str(state.get("text", "")) if isinstance(state, dict) else ""


def _show(value: Any) -> str:
    """A value as one readable line (targets and actions as written in the flow)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=False)


def _state_changes(name: str, before: dict[str, Any], after: dict[str, Any]) -> Iterator[Change]:
    if before.get("type") != after.get("type"):
        yield Change(
            name,
            "changed",
            "type",
            before=_show(before.get("type")),
            after=_show(after.get("type")),
        )
    if before.get("text") != after.get("text"):
        yield Change(name, "changed", "text", before=_text(before), after=_text(after), lang=SOURCE)
    yield from _option_changes(name, before.get("options") or [], after.get("options") or [])
    if before.get("next") != after.get("next"):
        yield Change(
            name,
            "changed",
            "target",
            before=_show(before.get("next")),
            after=_show(after.get("next")),
        )
    for key in ("do", "on_enter"):
        if before.get(key) != after.get(key):
            yield Change(
                name, "changed", "actions", key, _show(before.get(key)), _show(after.get(key))
            )
    shown = {"type", "text", "options", "next", "do", "on_enter"}
    for key in dict.fromkeys([*before, *after]):
        if key not in shown and before.get(key) != after.get(key):
            yield Change(
                name, "changed", "setting", str(key), _show(before.get(key)), _show(after.get(key))
            )


def _option_changes(name: str, before: list[Any], after: list[Any]) -> Iterator[Change]:
    for number in range(1, max(len(before), len(after)) + 1):
        old = before[number - 1] if number <= len(before) else None
        new = after[number - 1] if number <= len(after) else None
        detail = str(number)
        if not isinstance(old, dict):
            yield Change(name, "added", "option", detail, after=_show((new or {}).get("label")))
        elif not isinstance(new, dict):
            yield Change(name, "removed", "option", detail, before=_show(old.get("label")))
        else:
            if old.get("label") != new.get("label"):
                yield Change(
                    name,
                    "changed",
                    "label",
                    detail,
                    _show(old.get("label")),
                    _show(new.get("label")),
                    SOURCE,
                )
            if old.get("next") != new.get("next"):
                yield Change(
                    name,
                    "changed",
                    "target",
                    detail,
                    _show(old.get("next")),
                    _show(new.get("next")),
                )
            if old.get("do") != new.get("do"):
                yield Change(
                    name, "changed", "actions", detail, _show(old.get("do")), _show(new.get("do"))
                )


def _texts(state: dict[str, Any]) -> list[tuple[What, str, str]]:
    """(what, option number, English) for each translated text of a state."""
    found: list[tuple[What, str, str]] = []
    if isinstance(state.get("text"), str):
        found.append(("text", "", state["text"]))
    for number, option in enumerate(state.get("options") or [], start=1):
        if (
            isinstance(option, dict)
            and option.get("translate", True)
            and isinstance(option.get("label"), str)
        ):
            found.append(("label", str(number), option["label"]))
    return found


def _text_changes(
    name: str, before: dict[str, Any], after: dict[str, Any], old_texts: Texts, new_texts: Texts
) -> Iterator[Change]:
    olds = {(w, d): en for w, d, en in _texts(before)}
    for what, detail, english in _texts(after):
        old_english = olds.get((what, detail))
        if old_english is None:
            continue
        for lang in LANGUAGES[1:]:
            old = old_texts.get(lang, {}).get(old_english, "")
            new = new_texts.get(lang, {}).get(english, "")
            if old != new:
                yield Change(name, "changed", what, detail, old, new, lang)
