"""``/flows`` (admins): the list of flows, and a flow's outline — the editor's main surface.

The outline shows each state's kind, its texts in the four languages side by side with fit
meters (computed by the server on save; htmx asks for them again as one types), where each
option or answer leads (chosen from a list), its actions and conditions in words, and the
draft's issues at their state. Each state is one form: saving it saves its texts, translations
and targets together, and its buttons (move, remove, add an option) save what was typed first,
so nothing typed is lost. A save on top of a newer draft answers the conflict page
(``flows_edit.conflict``), which keeps the person's text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from admin import flash
from admin.deps import Admin
from admin.flash import N_
from admin.render import render
from admin.routes import flows_common as common
from admin.routes.flows_edit import (
    EditRefused,
    Fields,
    apply_state_form,
    conflict,
    form_fields,
    refused,
    state_values,
)
from admin.routes.flows_words import words
from bot.content import outline, versions
from bot.content.fit import screen_turn, turn_fit
from bot.content.store import Draft, Entry, Status, published
from bot.core.languages import LANGUAGES
from bot.deps import ContentDep, DbSession, Now, SettingsDep
from bot.engine.loader import FlowIssue

router = APIRouter(tags=["team web"])

SAVED = flash.register(
    "flows.saved", N_("Saved in the draft. Nothing changes for callers until it is published.")
)


@router.get("/flows")
def flow_list(request: Request, me: Admin, db: DbSession) -> Response:
    """Every flow: its published version, its draft, how complete each language is."""
    summaries = versions.list_flows(db)
    db.commit()  # a flow's first draft is made from its newest version
    return render(request, "flows.html", {"flows": summaries, "translated": common.TRANSLATED})


@router.get("/flows/{flow}")
def flow_outline(
    request: Request, me: Admin, db: DbSession, content: ContentDep, flow: str
) -> Response:
    """The draft's outline: states, texts in four languages, targets, actions, issues."""
    draft = common.draft_of(db, flow)
    issues = versions.draft_issues(db, flow)
    db.commit()
    return outline_page(request, db, content, draft, issues)


def outline_page(
    request: Request,
    db: DbSession,
    content: ContentDep,
    draft: Draft,
    issues: list[FlowIssue],
    *,
    status: int = 200,
) -> Response:
    """The outline page of a draft with its issues."""
    flow = common.definition(draft.source)
    tr = common.translate_with(content, draft.translations)
    rows = (
        common.state_rows(
            flow, draft.translations, issues, common.loaded(draft.source, draft.flow, content), tr
        )
        if flow is not None
        else []
    )
    live = {v.flow: v for v in published(db)}
    current = live.get(draft.flow)
    changed = current is None or (
        current.source != draft.source
        or common.plain_texts(current.translations) != common.plain_texts(draft.translations)
    )
    return render(
        request,
        "flow_outline.html",
        {
            "draft": draft,
            "flow": flow,
            "title": flow.title if flow is not None else "",
            "published": current.number if current is not None else None,
            "changed": changed,
            "rows": rows,
            "issues": issues,
            "loose": [
                i for i in issues if i.state is None or (flow and i.state not in flow.states)
            ],
            "choices": common.choices(flow, list(live)) if flow is not None else [],
            "translated": common.TRANSLATED,
            **words(),
        },
        status=status,
    )


FieldsDep = Annotated[Fields, Depends(form_fields)]


@router.post("/flows/{flow}/states/{state}")
def save_state(
    request: Request,
    me: Admin,
    db: DbSession,
    settings: SettingsDep,
    now: Now,
    flow: str,
    state: str,
    fields: FieldsDep,
) -> Response:
    """Save a state's texts, translations and targets, then do what its button asked."""
    draft = common.draft_of(db, flow)
    try:
        source, texts, anchor = apply_state_form(draft.source, draft.translations, state, fields)
        saved = versions.save_draft(
            db,
            flow=flow,
            revision=fields.revision,
            source=source if source != draft.source else None,
            texts=texts,
            by=me.username,
            now=now,
        )
        mark_reviewed(db, saved, state, fields, by=me.username, now=now)
    except versions.StaleDraft as exc:
        db.rollback()
        return conflict(request, exc, fields, action=f"/flows/{flow}/states/{state}", state=state)
    except EditRefused as exc:
        db.rollback()
        return refused(
            request, draft, exc, fields, action=f"/flows/{flow}/states/{state}", state=state
        )
    db.commit()
    where = f"#state-{anchor}" if anchor else ""
    return flash.redirect(f"/flows/{flow}{where}", settings, SAVED)


def mark_reviewed(
    db: DbSession, saved: Draft, state: str, fields: Fields, *, by: str, now: datetime
) -> None:
    """Mark the translations ticked ``reviewed:<lang>:<field>`` as reviewed by ``by``."""
    ticked = [name.split(":", 2)[1:] for name in fields.values if name.startswith("reviewed:")]
    flow = common.definition(saved.source) if ticked else None
    english = state_values(flow, {}, state) if flow is not None else {}
    for lang, field in (t for t in ticked if len(t) == 2):
        msgid = english.get(f"en:{field}")
        if msgid is None or lang not in common.TRANSLATED:
            continue
        try:
            saved = versions.mark_reviewed(
                db, flow=saved.flow, revision=saved.revision, lang=lang, msgid=msgid, by=by, now=now
            )
        except ValueError:  # nothing to review (the translation was emptied)
            continue


@router.post("/flows/{flow}/states/{state}/fit")
def state_fit(
    request: Request,
    me: Admin,
    db: DbSession,
    content: ContentDep,
    flow: str,
    state: str,
    fields: FieldsDep,
) -> Response:
    """The state's fit meters for what is typed now (saves nothing): htmx asks as one types."""
    draft = common.draft_of(db, flow)
    db.commit()
    try:
        source, texts, _ = apply_state_form(
            draft.source, draft.translations, state, fields, buttons=False
        )
    except EditRefused:
        return render(request, "flow_fit.html", {"state": state, "fits": {}})
    merged = {lang: dict(draft.translations.get(lang, {})) for lang in common.TRANSLATED}
    typed = {
        lang: {english: Entry(text, Status.DRAFT) for english, text in entries.items()}
        for lang, entries in texts.items()
    }
    for lang, entries in typed.items():
        merged[lang].update(entries)
    loaded = common.loaded(source, flow, content)
    tr = common.translate_with(content, merged)
    fits = {}
    for lang in LANGUAGES:
        turn = screen_turn(loaded, state, lang, tr) if loaded is not None else None
        fits[lang] = turn_fit(turn, tr) if turn is not None else None
    return render(request, "flow_fit.html", {"state": state, "fits": fits})


@router.post("/flows/{flow}/states")
def add_state(
    request: Request,
    me: Admin,
    db: DbSession,
    settings: SettingsDep,
    now: Now,
    flow: str,
    fields: FieldsDep,
) -> Response:
    """Add a screen after another (it leads where that one is; point it elsewhere after)."""
    draft = common.draft_of(db, flow)
    name = fields.get("name").strip()
    try:
        try:
            source = outline.add_state(
                draft.source,
                name,
                fields.get("kind"),
                fields.get("text"),
                fields.get("after") or None,
            )
        except outline.OutlineError as exc:
            raise EditRefused(str(exc)) from None
        versions.save_draft(
            db, flow=flow, revision=fields.revision, source=source, by=me.username, now=now
        )
    except versions.StaleDraft as exc:
        db.rollback()
        return conflict(request, exc, fields, action=f"/flows/{flow}/states")
    except EditRefused as exc:
        db.rollback()
        return refused(request, draft, exc, fields, action=f"/flows/{flow}/states")
    db.commit()
    return flash.redirect(f"/flows/{flow}#state-{name}", settings, SAVED)


@router.get("/flows/{flow}/source")
def source_page(request: Request, me: Admin, db: DbSession, flow: str) -> Response:
    """The draft's YAML as text, for what the outline does not edit (conditions, actions)."""
    draft = common.draft_of(db, flow)
    issues = versions.draft_issues(db, flow)
    db.commit()
    return render(
        request, "flow_source.html", {"draft": draft, "source": draft.source, "issues": issues}
    )


@router.post("/flows/{flow}/source")
def save_source(
    request: Request,
    me: Admin,
    db: DbSession,
    settings: SettingsDep,
    now: Now,
    flow: str,
    fields: FieldsDep,
) -> Response:
    """Save the YAML as typed, broken or not: its issues are shown, it cannot be published."""
    common.draft_of(db, flow)  # 404 for an unknown flow
    text = fields.get("source").replace("\r\n", "\n")
    try:
        versions.save_draft(
            db, flow=flow, revision=fields.revision, source=text, by=me.username, now=now
        )
    except versions.StaleDraft as exc:
        db.rollback()
        return conflict(request, exc, fields, action=f"/flows/{flow}/source")
    db.commit()
    if common.definition(text) is None:
        return flash.redirect(f"/flows/{flow}/source", settings, SAVED)
    return flash.redirect(f"/flows/{flow}", settings, SAVED)
