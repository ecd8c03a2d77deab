"""A flow's versions in the team web (admins): publish the draft with a note, the history (who,
when, note), roll back to an old version (published again as a new number), the diff between
any two versions or the draft, and the graph drawn by the server.

Publishing and rolling back are ``bot.content.versions``' (checked, numbered, audited); the
routes commit, then tell running processes at once (``bot.content.signal.announce``).
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from admin import flash
from admin.deps import Admin
from admin.flash import N_
from admin.render import render
from admin.routes import flows_common as common
from admin.routes.flows import outline_page
from admin.routes.flows_words import words
from bot.content import diff, graph, versions
from bot.content.signal import announce
from bot.content.store import Translations, generation
from bot.deps import ContentDep, DbSession, Now, SettingsDep
from bot.engine.loader import FlowIssue

log = logging.getLogger(__name__)
router = APIRouter(tags=["team web"])

PUBLISHED = flash.register(
    "flows.published",
    N_("Published. New conversations use it; those under way finish as they began."),
)
ROLLED_BACK = flash.register(
    "flows.rolled_back", N_("Published again as a new version. New conversations use it.")
)
Note = Annotated[str, Form(max_length=versions.NOTE_MAX)]
Revision = Annotated[int, Form(ge=0, le=10**9)]
Number = Annotated[int, Form(ge=1, le=10**9)]
DRAFT = "draft"


@router.post("/flows/{flow}/publish")
def publish(
    request: Request,
    me: Admin,
    db: DbSession,
    settings: SettingsDep,
    content: ContentDep,
    now: Now,
    flow: str,
    revision: Revision = 0,
    note: Note = "",
) -> Response:
    """Publish the draft as the next version; refused with every issue when it is not valid."""
    draft = common.draft_of(db, flow)
    try:
        version = versions.publish(
            db, flow=flow, revision=revision, note=note, by=me.username, now=now
        )
    except versions.NotPublishable as exc:
        db.rollback()
        return outline_page(request, db, content, draft, exc.issues, status=422)
    except versions.StaleDraft as exc:
        db.rollback()
        issues = versions.draft_issues(db, flow)
        return outline_page(request, db, content, exc.current, issues, status=409)
    db.commit()
    announce(settings.redis_url, generation(db))
    log.info("flow %s version %s published by %s", flow, version.number, me.username)
    return flash.redirect(f"/flows/{flow}/history", settings, PUBLISHED)


@router.post("/flows/{flow}/rollback")
def rollback(
    request: Request,
    me: Admin,
    db: DbSession,
    settings: SettingsDep,
    now: Now,
    flow: str,
    number: Number = 1,
    note: Note = "",
) -> Response:
    """Publish an old version again as the next number (history is never rewritten)."""
    common.version_of(db, flow, number)
    try:
        version = versions.rollback(
            db, flow=flow, number=number, note=note, by=me.username, now=now
        )
    except versions.NotPublishable as exc:
        db.rollback()
        return history_page(request, db, flow, refused=exc.issues, status=422)
    db.commit()
    announce(settings.redis_url, generation(db))
    log.info("flow %s rolled back to %s as %s by %s", flow, number, version.number, me.username)
    return flash.redirect(f"/flows/{flow}/history", settings, ROLLED_BACK)


def history_page(
    request: Request,
    db: DbSession,
    flow: str,
    *,
    refused: list[FlowIssue] | None = None,
    status: int = 200,
) -> Response:
    """Every version, newest first, with what to compare and what to roll back to."""
    draft = common.draft_of(db, flow)
    found = versions.history(db, flow)
    db.commit()
    return render(
        request,
        "flow_history.html",
        {"draft": draft, "versions": found, "refused": refused or [], **words()},
        status=status,
    )


@router.get("/flows/{flow}/history")
def history(request: Request, me: Admin, db: DbSession, flow: str) -> Response:
    """Who published what, when, and why; compare any two; roll back."""
    return history_page(request, db, flow)


def _side(db: DbSession, flow: str, side: str) -> tuple[str, str, Translations]:
    """(label, source, translations) of a version number or the draft."""
    if side == DRAFT:
        draft = common.draft_of(db, flow)
        return DRAFT, draft.source, draft.translations
    version = common.version_of(db, flow, int(side))
    return side, version.source, version.translations


@router.get("/flows/{flow}/diff")
def compare(
    request: Request,
    me: Admin,
    db: DbSession,
    flow: str,
    before: Annotated[
        str, Query(alias="from", max_length=12, pattern=r"^(draft|[0-9]{1,9})$")
    ] = "1",
    after: Annotated[
        str, Query(alias="to", max_length=12, pattern=r"^(draft|[0-9]{1,9})$")
    ] = DRAFT,
) -> Response:
    """What changed from one version (or the draft) to another: structure and texts."""
    draft = common.draft_of(db, flow)
    old_label, old_source, old_texts = _side(db, flow, before)
    new_label, new_source, new_texts = _side(db, flow, after)
    found = diff.compare(
        old_source, common.plain_texts(old_texts), new_source, common.plain_texts(new_texts)
    )
    numbers = [v.number for v in versions.history(db, flow)]
    db.commit()
    return render(
        request,
        "flow_diff.html",
        {
            "draft": draft,
            "diff": found,
            "before": old_label,
            "after": new_label,
            "numbers": numbers,
        },
    )


@router.get("/flows/{flow}/graph")
def flow_graph(
    request: Request,
    me: Admin,
    db: DbSession,
    flow: str,
    version: Annotated[str, Query(max_length=12, pattern=r"^(draft|[0-9]{1,9})$")] = DRAFT,
) -> Response:
    """The flow drawn as boxes and arrows (the draft, or a version)."""
    draft = common.draft_of(db, flow)
    label, source, _ = _side(db, flow, version)
    definition = common.definition(source)
    flagged: frozenset[str] = frozenset()
    if label == DRAFT:
        flagged = frozenset(i.state for i in versions.draft_issues(db, flow) if i.state)
    numbers = [v.number for v in versions.history(db, flow)]
    db.commit()
    drawn = (
        Markup(graph.svg(definition, title=flow, issues=flagged))  # noqa: S704 - escaped by graph
        if definition is not None
        else None
    )
    return render(
        request,
        "flow_graph.html",
        {"draft": draft, "svg": drawn, "shown": label, "numbers": numbers},
    )
