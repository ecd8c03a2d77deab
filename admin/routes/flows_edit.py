"""How a state's form becomes a draft edit, and the pages that keep the person's text when an
edit cannot be saved: a conflict (someone saved the draft since) or a refused edit.

A state's form has ``<lang>:text`` and ``<lang>:label:<n>`` for its texts, ``to:<way>`` for
where each way out leads (``to:option:2``, ``to:answer:yes``, ``to:next:1``), ``revision`` (the
draft revision the page showed) and the button pressed as ``do``. A translation is sent to the
service only when the person changed it, so one left as it was while its English changed is
marked as needing review, as the service does.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, Request
from fastapi.responses import Response

from admin.flash import N_
from admin.render import render
from admin.routes import flows_common as common
from bot.content import diff, outline, versions
from bot.content.store import MISSING, Draft, Translations
from bot.engine.model import FlowDefinition, MenuState

SKIPPED = frozenset({"csrf"})


class EditRefused(ValueError):
    """An edit that cannot be made as asked (the message says why); nothing was saved.
    ``said``: why in words of the ``web`` catalog (with ``values``) when the refusal is ours;
    the outline's own refusals are its English message."""

    def __init__(self, message: str, said: str = "", **values: str) -> None:
        super().__init__(message)
        self.said = said
        self.values = values


@dataclass(frozen=True)
class Fields:
    """A posted form's fields (each at most ``MAX_FIELD`` characters) and its revision."""

    values: dict[str, str]
    revision: int

    def get(self, name: str) -> str:
        return self.values.get(name, "")


async def form_fields(request: Request) -> Fields:
    """The form as sent; 422 for an over-long field or a revision that is not a number."""
    form = await request.form()
    values: dict[str, str] = {}
    for name, value in form.multi_items():
        if name in SKIPPED or not isinstance(value, str):
            continue
        if len(value) > common.MAX_FIELD or len(name) > 80:
            raise HTTPException(status_code=422, detail=f"field {name[:80]!r} is too long")
        values[name] = value
    raw = values.pop("revision", "0").strip() or "0"
    if not raw.isdigit() or len(raw) > 9:
        raise HTTPException(status_code=422, detail="revision must be a number")
    return Fields(values, int(raw))


def state_values(flow: FlowDefinition, translations: Translations, state: str) -> dict[str, str]:
    """A state's form fields as the draft holds them now."""
    found = flow.states.get(state)
    if found is None:
        return {}
    texts = [("text", found.text, True)]
    if isinstance(found, MenuState):
        texts += [(f"label:{n}", o.label, o.translate) for n, o in enumerate(found.options, 1)]
    values: dict[str, str] = {}
    for name, english, translate in texts:
        values[f"en:{name}"] = english
        if translate:
            for lang in common.TRANSLATED:
                values[f"{lang}:{name}"] = translations.get(lang, {}).get(english, MISSING).text
    values.update({f"to:{w.key}": w.target for w in common.state_rows_plain(flow, state)})
    return values


def apply_state_form(
    source: str, translations: Translations, state: str, fields: Fields, *, buttons: bool = True
) -> tuple[str, dict[str, dict[str, str]], str]:
    """(new source, translations the person changed, the state to show after) for a state's
    form; with ``buttons`` the pressed button's change is made on top of the typed edits."""
    flow = common.definition(source)
    if flow is None:
        raise EditRefused(
            "the draft's text does not parse",
            N_("The draft's text does not parse: correct it in the text view first."),
        )
    if state not in flow.states:
        raise EditRefused(
            f"no state '{state}' in the draft",
            N_("There is no screen %(state)s in the draft any more."),
            state=state,
        )
    try:
        changed, english = _texts_and_targets(source, flow, state, fields)
        texts = typed_translations(flow, translations, state, fields, english)
        anchor = state
        if buttons:
            changed, anchor = _button(changed, state, fields)
    except outline.OutlineError as exc:
        raise EditRefused(str(exc)) from None
    return changed, texts, anchor


def _texts_and_targets(
    source: str, flow: FlowDefinition, state: str, fields: Fields
) -> tuple[str, dict[str, str]]:
    """The source with the typed English texts and targets in; each text field's English."""
    now = state_values(flow, {}, state)
    english: dict[str, str] = {}
    for name, value in now.items():
        if not name.startswith("en:"):
            continue
        field = name[3:]
        typed = fields.values.get(name)
        english[field] = value
        if typed is None or typed.strip() == value:
            continue
        if field == "text":
            source = outline.set_text(source, state, typed)
        else:
            source = outline.set_label(source, state, int(field.split(":")[1]) - 1, typed)
        english[field] = typed.strip()
    for name, typed in fields.values.items():
        if name.startswith("to:") and typed and now.get(name) not in (None, typed):
            source = outline.set_target(source, state, common.way(name[3:]), typed)
    return source, english


def typed_translations(
    flow: FlowDefinition,
    translations: Translations,
    state: str,
    fields: Fields,
    english: dict[str, str],
) -> dict[str, dict[str, str]]:
    """Language -> new English -> translation, for the translations the person changed."""
    was = state_values(flow, translations, state)
    texts: dict[str, dict[str, str]] = {}
    for lang in common.TRANSLATED:
        for field, new_english in english.items():
            typed = fields.values.get(f"{lang}:{field}")
            if typed is None or f"{lang}:{field}" not in was:
                continue
            if typed.strip() != was[f"{lang}:{field}"]:
                texts.setdefault(lang, {})[new_english] = typed.strip()
    return texts


MOVES = {"up": -1, "down": 1}


def _button(source: str, state: str, fields: Fields) -> tuple[str, str]:
    """The pressed button's change on top of the typed edits; the state to show after."""
    do = fields.get("do") or "save"
    if do == "save":
        return source, state
    if do in MOVES:
        return outline.move_state(source, state, MOVES[do]), state
    if do == "remove":
        return outline.remove_state(source, state), ""
    if do == "option-add":
        label, target = fields.get("new-label"), fields.get("new-target") or state
        return outline.add_option(source, state, label, target), state
    kind, _, number = do.partition(":")
    if number.isdigit() and 0 < int(number) < 100:
        index = int(number) - 1
        if kind == "option-remove":
            return outline.remove_option(source, state, index), state
        if kind.startswith("option-") and kind[7:] in MOVES:
            return outline.move_option(source, state, index, MOVES[kind[7:]]), state
    raise EditRefused(f"unknown button {do!r}", N_("This button is not one the page offers."))


@dataclass(frozen=True)
class Kept:
    """One field of a refused form: what the draft holds now, and what the person sent."""

    name: str
    now: str | None
    mine: str

    @property
    def differs(self) -> bool:
        return self.now is not None and self.now != self.mine

    @property
    def lang(self) -> str | None:
        """The language of a text field (``fr:label:2`` -> fr)."""
        head = self.name.split(":", 1)[0]
        return head if head in ("en", *common.TRANSLATED) else None

    @property
    def what(self) -> str:
        """The field without its language: ``text``, ``label:2``, ``to:option:2``, ``source``."""
        return self.name.split(":", 1)[1] if self.lang else self.name


def conflict(
    request: Request,
    exc: versions.StaleDraft,
    fields: Fields,
    *,
    action: str,
    state: str | None = None,
) -> Response:
    """409: the draft moved on since the page was shown; the person's text is kept, beside the
    draft as it is now, to save again on top of it."""
    return _kept(
        request, exc.current, fields, action=action, state=state, stale=True, why=None, status=409
    )


def refused(
    request: Request,
    draft: Draft,
    why: EditRefused,
    fields: Fields,
    *,
    action: str,
    state: str | None = None,
) -> Response:
    """422: the edit cannot be made as asked; the person's text is kept to correct and resend."""
    return _kept(
        request, draft, fields, action=action, state=state, stale=False, why=why, status=422
    )


def _kept(
    request: Request,
    current: Draft,
    fields: Fields,
    *,
    action: str,
    state: str | None,
    stale: bool,
    why: EditRefused | None,
    status: int,
) -> Response:
    flow = common.definition(current.source)
    now = state_values(flow, current.translations, state) if flow is not None and state else {}
    if "source" in fields.values:
        now = {"source": current.source}
    rows = [
        Kept(name, now.get(name), typed)
        for name, typed in fields.values.items()
        if name != "do" and (name in now or not now)
    ]
    changes = (
        diff.compare(
            current.source, common.plain_texts(current.translations), fields.get("source"), {}
        )
        if "source" in fields.values
        else None
    )
    return render(
        request,
        "flow_conflict.html",
        {
            "current": current,
            "rows": rows,
            "stale": stale,
            "why": why,
            "action": action,
            "state": state,
            "changes": changes,
        },
        status=status,
    )
