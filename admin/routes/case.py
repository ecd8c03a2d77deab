"""``/cases/{ref}``: one case — summary, consents, timeline, notes — and what to do with it.

Every action is a plain POST form answered by a redirect back to the page (post/redirect/get);
a refusal re-renders the page with what was refused and why. What the page offers is what the
cases service says this reader may do (``bot.cases.case_page``); the services refuse the rest,
so a forged form changes nothing. Nothing decrypted is on the page until its reader reveals it
with a reason (``bot.cases.reveal``): that response alone carries it (``no-store``, never in a
URL). A retried note or consent form (the same ``once`` token) is not recorded twice; the
other actions are idempotent in the services or refused the second time.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from anyio import from_thread
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlmodel import Session

from admin import flash
from admin.deps import Staff, WebUser
from admin.flash import N_
from admin.render import render
from admin.routes import case_labels
from admin.routes.timeline_words import event_words
from bot.cases import commands, contact, reveal
from bot.cases.access import MAX_REASON, CaseNotFound, Conflict, NotPermitted, find_case
from bot.cases.case_page import case_page
from bot.cases.status import IllegalTransition, MoveNotAllowed
from bot.core.privacy import Cipher
from bot.core.settings import Settings
from bot.deps import CipherDep, DbSession, Now, SettingsDep, StoreDep
from bot.http.access import route_of
from bot.models import Case
from bot.sessions import SessionStore

log = logging.getLogger(__name__)
router = APIRouter(tags=["team web"])

ACKED = flash.register("case.acked", N_("Acknowledged: the escalation has stopped."))
CLAIMED = flash.register("case.claimed", N_("You now hold this case."))
MOVED = flash.register("case.moved", N_("Status changed."))
NOTED = flash.register("case.noted", N_("Note added."))
CONSENTED = flash.register("case.consent", N_("Consent recorded."))
ALREADY = flash.register("case.already", N_("Already done: nothing changed."))
MESSAGED = flash.register("case.messaged", N_("Message queued: the bot sends it to the person."))

ONCE_TTL = 24 * 3600
"""How long a form's ``once`` token is remembered (a retry after that is a new request)."""

Reason = Annotated[str, Form(max_length=MAX_REASON)]


@dataclass(frozen=True)
class Refusal:
    """What the page says when an action is refused: a msgid, the service's words, the moves."""

    message: str
    detail: str = ""
    allowed: tuple[str, ...] = ()


NOT_HOLDER = N_(
    "Only the operator holding this case or a supervisor may do this. "
    "Claim the case or ask a supervisor."
)
CHANGED = N_("This cannot be done now: the case has changed, or is closed.")
NOT_ALLOWED = N_("This status change is not allowed. The case may move to:")
INVALID = N_("Something in the form is missing or not valid.")


def refusal(exc: Exception) -> tuple[int, Refusal]:
    """The HTTP status and what the page says for a refusal from the case services."""
    if isinstance(exc, NotPermitted):
        return 403, Refusal(NOT_HOLDER, str(exc))
    if isinstance(exc, MoveNotAllowed):
        return 409, Refusal(NOT_ALLOWED, str(exc), tuple(exc.allowed))
    if isinstance(exc, Conflict):
        return 409, Refusal(CHANGED, str(exc))
    return 422, Refusal(INVALID, str(exc))


def load(db: Session, ref: str) -> Case:
    """The case with this reference, or 404."""
    try:
        return find_case(db, ref[:16])
    except CaseNotFound:
        raise HTTPException(status_code=404, detail="no such case") from None


def once_token() -> str:
    """A fresh token for a form that must not be recorded twice."""
    return secrets.token_urlsafe(16)


def first_time(store: SessionStore, once: str) -> bool:
    """Is this the first time a form with the token ``once`` is recorded? (A form without one
    cannot be told from a retry, so it counts as new.) Called from a route's worker thread."""
    if not once:
        return True
    key = "web-once:" + hashlib.sha256(once.encode()).hexdigest()[:32]
    return bool(from_thread.run(store.add_once, key, ONCE_TTL))


def show(
    request: Request,
    db: Session,
    me: WebUser,
    case: Case,
    now: datetime,
    *,
    status: int = 200,
    refused: Refusal | None = None,
    revealed: reveal.Revealed | None = None,
    number: str | None = None,
    cipher: Cipher | None = None,
) -> Response:
    """The case page for ``me`` (with a refusal, or what they just revealed)."""
    page = case_page(db, case=case, actor=me.operator, now=now)
    chat = cipher is not None and page.may.reveal_contact and contact.has_chat(cipher, case)
    context: dict[str, Any] = {
        "page": page,
        "refused": refused,
        "revealed": revealed,
        "note_bodies": {n.id: n.body for n in revealed.notes} if revealed else {},
        "number": number,
        "once": once_token(),
        "case_labels": case_labels,
        "event_words": event_words,
        "supervisor": me.role in ("supervisor", "admin"),
        "may_message": chat,
        "max_message": contact.MAX_MESSAGE,
    }
    return render(request, "case.html", context, status=status)


def back(case: Case, settings: Settings, key: str, anchor: str = "") -> Response:
    """Back to the case page, with a message."""
    return flash.redirect(f"/cases/{case.reference}{anchor}", settings, key)


def refused_page(
    request: Request,
    db: Session,
    me: WebUser,
    case: Case,
    now: datetime,
    exc: Exception,
    cipher: Cipher | None = None,
) -> Response:
    """The case page saying why an action was refused (a refusal's audit entry is kept)."""
    if isinstance(exc, NotPermitted):
        db.commit()  # the refusal's audit entry (nothing else changed)
    else:
        db.rollback()
    status, why = refusal(exc)
    log.info("case %s: %s refused (%s)", case.id, route_of(request.scope), type(exc).__name__)
    db.refresh(case)
    return show(request, db, me, case, now, status=status, refused=why, cipher=cipher)


@router.get("/cases/{ref}")
def case_view(
    request: Request, ref: str, me: Staff, db: DbSession, now: Now, cipher: CipherDep
) -> Response:
    """The case page: nothing decrypted is shown."""
    return show(request, db, me, load(db, ref), now, cipher=cipher)


@router.post("/cases/{ref}/message")
def message_person(
    request: Request,
    ref: str,
    me: Staff,
    db: DbSession,
    now: Now,
    settings: SettingsDep,
    cipher: CipherDep,
    body: Annotated[str, Form(max_length=contact.MAX_MESSAGE)],
    once: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Answer the person in their Telegram chat through the bot (holder or supervisor, with
    contact consent); the form's ``once`` token is the idempotency key: a retry sends nothing."""
    case = load(db, ref)
    try:
        contact.message_person(
            db, cipher, case=case, actor=me.operator, body=body, now=now, key=once or None
        )
    except (NotPermitted, Conflict, ValueError) as exc:
        return refused_page(request, db, me, case, now, exc, cipher)
    db.commit()
    return back(case, settings, MESSAGED, "#reveal")


@router.post("/cases/{ref}/ack")
def acknowledge(
    request: Request, ref: str, me: Staff, db: DbSession, now: Now, settings: SettingsDep
) -> Response:
    """I have seen it: the escalation ladder stops."""
    case = load(db, ref)
    if case.acknowledged_at is not None:
        return back(case, settings, ALREADY)
    try:
        commands.acknowledge(db, case=case, actor=me.operator, now=now)
    except (NotPermitted, Conflict) as exc:
        return refused_page(request, db, me, case, now, exc)
    db.commit()
    return back(case, settings, ACKED)


@router.post("/cases/{ref}/claim")
def claim(
    request: Request, ref: str, me: Staff, db: DbSession, now: Now, settings: SettingsDep
) -> Response:
    """Make me the case's holder (and acknowledge it)."""
    case = load(db, ref)
    try:
        changed = commands.claim(db, case=case, actor=me.operator, now=now)
    except (NotPermitted, Conflict) as exc:
        return refused_page(request, db, me, case, now, exc)
    db.commit()
    return back(case, settings, CLAIMED if changed else ALREADY)


@router.post("/cases/{ref}/status")
def change_status(
    request: Request,
    ref: str,
    me: Staff,
    db: DbSession,
    now: Now,
    settings: SettingsDep,
    to: Annotated[str, Form(max_length=16)],
    reason: Reason = "",
) -> Response:
    """Move the case along its workflow; a move it does not allow is refused with the allowed."""
    case = load(db, ref)
    try:
        commands.change_status(db, case=case, actor=me.operator, to=to, reason=reason, now=now)
    except MoveNotAllowed as exc:
        if case.status == to:  # a retried form: it is done already
            return back(case, settings, ALREADY)
        return refused_page(request, db, me, case, now, exc)
    except (IllegalTransition, NotPermitted, Conflict, ValueError) as exc:
        return refused_page(request, db, me, case, now, exc)
    db.commit()
    return back(case, settings, MOVED)


@router.post("/cases/{ref}/notes")
def add_note(
    request: Request,
    ref: str,
    me: Staff,
    db: DbSession,
    now: Now,
    settings: SettingsDep,
    store: StoreDep,
    cipher: CipherDep,
    body: Annotated[str, Form(max_length=commands.MAX_NOTE)],
    once: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Add a note (stored encrypted; the timeline says only that a note was added)."""
    case = load(db, ref)
    try:
        commands.add_note(db, cipher, case=case, actor=me.operator, body=body, now=now)
    except (Conflict, ValueError) as exc:
        return refused_page(request, db, me, case, now, exc)
    if not first_time(store, once):
        db.rollback()
        return back(case, settings, ALREADY, "#notes")
    db.commit()
    return back(case, settings, NOTED, "#notes")


def _flag(value: str) -> bool | None:
    """A consent field: ``yes``, ``no``, or anything else for unchanged."""
    return {"yes": True, "no": False}.get(value)


@router.post("/cases/{ref}/consent")
def record_consent(
    request: Request,
    ref: str,
    me: Staff,
    db: DbSession,
    now: Now,
    settings: SettingsDep,
    store: StoreDep,
    contact: Annotated[str, Form(max_length=3)] = "",
    refer: Annotated[str, Form(max_length=3)] = "",
    police: Annotated[str, Form(max_length=3)] = "",
    once: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Record consent the person gave or withdrew (holder or supervisor)."""
    case = load(db, ref)
    try:
        commands.record_consent(
            db,
            case=case,
            actor=me.operator,
            contact=_flag(contact),
            refer=_flag(refer),
            police=_flag(police),
            now=now,
            grace=timedelta(days=settings.consent_withdraw_grace_days),
        )
    except (NotPermitted, Conflict, ValueError) as exc:
        return refused_page(request, db, me, case, now, exc)
    if not first_time(store, once):
        db.rollback()
        return back(case, settings, ALREADY, "#consents")
    db.commit()
    return back(case, settings, CONSENTED, "#consents")


@router.post("/cases/{ref}/reveal")
def reveal_content(
    request: Request,
    ref: str,
    me: Staff,
    db: DbSession,
    now: Now,
    cipher: CipherDep,
    reason: Reason = "",
) -> Response:
    """The case's content, decrypted for me on this response only; audited with my reason."""
    case = load(db, ref)
    try:
        shown = reveal.reveal_content(
            db, cipher, case=case, actor=me.operator, reason=reason, now=now
        )
    except (NotPermitted, ValueError) as exc:
        return refused_page(request, db, me, case, now, exc)
    db.commit()  # the record of the reading before the reading is shown
    return show(request, db, me, case, now, revealed=shown)


@router.post("/cases/{ref}/contact")
def reveal_contact(
    request: Request,
    ref: str,
    me: Staff,
    db: DbSession,
    now: Now,
    cipher: CipherDep,
    reason: Reason = "",
) -> Response:
    """The number the person consented to be called back on, for me; audited with my reason."""
    case = load(db, ref)
    try:
        number = reveal.reveal_contact(
            db, cipher, case=case, actor=me.operator, reason=reason, now=now
        )
    except (NotPermitted, Conflict, ValueError) as exc:
        return refused_page(request, db, me, case, now, exc)
    db.commit()
    return show(request, db, me, case, now, number=number)
