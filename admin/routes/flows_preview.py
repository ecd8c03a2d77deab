"""``/flows/{flow}/preview`` (admins): the draft run as a basic phone, an SMS conversation or
Telegram shows it, in any language, saving nothing — no ``CON``/``END`` or other jargon: a
phone's screen, a conversation of messages, a chat with buttons.

Each preview is its own conversation (a random id in the form); the last exchanges ride along
in the form, so the page needs no storage of its own and works without JavaScript.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from admin.deps import Admin
from admin.render import render
from admin.routes import flows_common as common
from bot.content import versions
from bot.content.files import Content
from bot.content.preview import preview
from bot.content.store import Draft
from bot.core.languages import Language
from bot.deps import ConversationsDep, DbSession
from bot.engine.loader import FlowIssue, FlowLoadError
from bot.engine.runner import UnknownFlow

router = APIRouter(tags=["team web"])

Channel = Literal["ussd", "sms", "telegram"]
PREVIEW_ID = r"^[0-9a-f]{16,32}$"
KEEP = 12
"""Messages of an SMS or Telegram preview kept on the page."""


def _key(flow: str, me: Admin, token: str) -> str:
    return f"preview:{flow}:{me.id}:{token}"


def _draft_content(db: DbSession, flow: str) -> tuple[Draft, Content | None, list[FlowIssue]]:
    """The draft, and the content to run it on (or why it cannot run), read in a thread."""
    draft = common.draft_of(db, flow)
    try:
        content: Content | None = versions.draft_content(db, flow)
        issues: list[FlowIssue] = []
    except FlowLoadError as exc:
        content, issues = None, exc.issues
    db.commit()
    return draft, content, issues


async def _page(
    request: Request,
    me: Admin,
    db: DbSession,
    conversations: ConversationsDep,
    *,
    flow: str,
    channel: str,
    lang: str,
    token: str,
    said: str | None,
    log: list[str],
) -> Response:
    draft, content, issues = await run_in_threadpool(_draft_content, db, flow)
    if content is None:
        return render(
            request,
            "flow_preview.html",
            {"draft": draft, "issues": issues, "channel": channel, "preview_lang": lang},
            status=422,
        )
    key = _key(flow, me, token)
    try:
        screen = await preview(
            conversations, content, channel=channel, key=key, lang=lang, flow=flow, text=said
        )
    except UnknownFlow:  # the draft changed under a running preview: start again
        said = None
        screen = await preview(
            conversations, content, channel=channel, key=key, lang=lang, flow=flow, text=None
        )
    if said is not None:
        log = [*log, f">{said}"]
    log = [*log, f"<{screen.text}"][-KEEP:]
    return render(
        request,
        "flow_preview.html",
        {
            "draft": draft,
            "issues": [],
            "channel": channel,
            "preview_lang": lang,
            "token": token,
            "screen": screen,
            "log": log,
        },
    )


@router.get("/flows/{flow}/preview")
async def preview_start(
    request: Request,
    me: Admin,
    db: DbSession,
    conversations: ConversationsDep,
    flow: str,
    channel: Annotated[Channel, Query()] = "ussd",
    lang: Annotated[Language, Query()] = "en",
) -> Response:
    """A new preview of the draft from its first screen."""
    token = secrets.token_hex(8)
    return await _page(
        request,
        me,
        db,
        conversations,
        flow=flow,
        channel=channel,
        lang=lang,
        token=token,
        said=None,
        log=[],
    )


@router.post("/flows/{flow}/preview")
async def preview_reply(
    request: Request,
    me: Admin,
    db: DbSession,
    conversations: ConversationsDep,
    flow: str,
    token: Annotated[str, Form(pattern=PREVIEW_ID)],
    channel: Annotated[Channel, Form()] = "ussd",
    lang: Annotated[Language, Form()] = "en",
    reply: Annotated[str, Form(max_length=500)] = "",
    log: Annotated[list[str] | None, Form(max_length=KEEP)] = None,
) -> Response:
    """The preview's answer to what was typed (or the button tapped)."""
    kept = [entry[:2000] for entry in (log or [])][-KEEP:]
    return await _page(
        request,
        me,
        db,
        conversations,
        flow=flow,
        channel=channel,
        lang=lang,
        token=token,
        said=reply,
        log=kept,
    )
