"""Referrals from the case page: find a service, refer (consent, or a supervisor's override),
and follow the referral through accepted / rejected / done / revoked.

``GET /cases/{ref}/referrals/new`` searches the directory (``bot.directory.search``: the
case's area and the places above it, service type, language, age, gender), pre-filled from
the case. The consent gate and the override are the referral service's
(``bot.cases.referrals``): without the person's consent an operator is told why and offered
nothing; a supervisor is asked for the override's reason, which is audited.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from admin import flash
from admin.deps import Staff, WebUser
from admin.flash import N_
from admin.render import render
from admin.routes import case_labels
from admin.routes.case import ALREADY, INVALID, Refusal, back, load, show
from bot.cases import partner_codes
from bot.cases.case_page import case_page
from bot.cases.partner_codes import PartnerSmsRefused
from bot.cases.referrals import (
    MAX_REASON,
    Outcome,
    ReferralConflict,
    ReferralNotFound,
    ReferralRefused,
    allowed,
    create_referral,
    find_referral,
    update_referral,
)
from bot.cases.status import IllegalTransition
from bot.core.languages import LANGUAGES
from bot.deps import CipherDep, ContentDep, DbSession, EngineDep, Now, SettingsDep
from bot.directory.search import find
from bot.directory.validate import SERVICE_TYPES
from bot.models import Case, Service

log = logging.getLogger(__name__)
router = APIRouter(tags=["team web"])

MAX_ID = 2**31 - 1
"""The largest id a table holds (a bigger number is refused, not sent to the database)."""

REFERRED = flash.register("referral.made", N_("Referral made."))
CODE_SENT = flash.register("referral.code_sent", N_("Code sent: the service can confirm by SMS."))
UPDATED = flash.register("referral.updated", N_("Referral updated."))
REFUSED = N_("This referral cannot be made.")
NOT_MOVED = N_("This referral cannot change that way. It may move to:")
REFUSED_CODE = N_("No code can be sent for this referral.")


def _choice(value: str, allowed: tuple[str, ...] | list[str]) -> str | None:
    """A filter value when it is one we know; anything else is no filter."""
    return value if value in allowed else None


def search_page(
    request: Request,
    db: Session,
    me: WebUser,
    case: Case,
    services: list[Service],
    chosen: dict[str, Any],
    *,
    status: int = 200,
    refused: Refusal | None = None,
) -> Response:
    """The search form, the services found and, for each, a form to refer (when allowed)."""
    page = case_page(db, case=case, actor=me.operator)
    context = {
        "page": page,
        "services": services,
        "chosen": chosen,
        "refused": refused,
        "service_types": SERVICE_TYPES,
        "case_labels": case_labels,
    }
    return render(request, "referral_search.html", context, status=status)


def _search(
    engine: Any, content: Any, case: Case, chosen: dict[str, Any]
) -> tuple[list[Service], dict[str, Any]]:
    """The services that fit ``chosen`` (blank filters: none)."""
    age = chosen["age"]
    found = find(
        engine,
        area=chosen["area"] or None,
        service_type=_choice(chosen["service_type"], SERVICE_TYPES),
        lang=_choice(chosen["lang"], LANGUAGES),
        age=int(age) if age.isdigit() and int(age) <= 120 else None,
        gender=_choice(chosen["gender"], ("female", "male")),
        tree=content.areas,
    )
    return found, chosen


@router.get("/cases/{ref}/referrals/new")
def find_services(
    request: Request,
    ref: str,
    me: Staff,
    db: DbSession,
    engine: EngineDep,
    content: ContentDep,
    area: Annotated[str | None, Query(max_length=120)] = None,
    service_type: Annotated[str, Query(max_length=32)] = "",
    lang: Annotated[str | None, Query(max_length=8)] = None,
    age: Annotated[str, Query(max_length=3)] = "",
    gender: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    """Services to refer the case to: its area and above, in its language, by default."""
    case = load(db, ref)
    chosen = {
        "area": (case.area or "") if area is None else area.strip(),
        "service_type": service_type,
        "lang": case.lang if lang is None else lang,
        "age": age.strip(),
        "gender": gender,
    }
    services, chosen = _search(engine, content, case, chosen)
    return search_page(request, db, me, case, services, chosen)


@router.post("/cases/{ref}/referrals")
def refer(
    request: Request,
    ref: str,
    me: Staff,
    db: DbSession,
    now: Now,
    settings: SettingsDep,
    engine: EngineDep,
    content: ContentDep,
    cipher: CipherDep,
    service_id: Annotated[int, Form(ge=1, le=MAX_ID)],
    override_reason: Annotated[str, Form(max_length=MAX_REASON)] = "",
    confirm_by_sms: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Refer the case: with consent, or a supervisor's override with a reason (audited); with
    ``confirm_by_sms``, the service's phone gets a code to confirm by SMS."""
    case = load(db, ref)
    service = db.get(Service, service_id)
    try:
        if service is None:
            raise ReferralRefused(f"no service {service_id}")
        made = create_referral(
            db,
            case=case,
            service=service,
            actor=me.operator,
            override_reason=override_reason,
            now=now,
        )
        if confirm_by_sms:
            partner_codes.offer(
                db, cipher, content.tr, settings, referral=made, actor=me.username, now=now
            )
    except (ReferralRefused, ReferralConflict, PartnerSmsRefused) as exc:
        db.rollback()
        db.refresh(case)
        log.info("case %s: referral refused (%s)", case.id, type(exc).__name__)
        chosen = {"area": case.area or "", "service_type": "", "lang": case.lang}
        services, chosen = _search(engine, content, case, {**chosen, "age": "", "gender": ""})
        why = Refusal(REFUSED, str(exc))
        return search_page(request, db, me, case, services, chosen, status=409, refused=why)
    db.commit()
    return back(case, settings, CODE_SENT if confirm_by_sms else REFERRED, "#referrals")


@router.post("/cases/{ref}/referrals/{referral_id}/partner-code")
def partner_code(
    request: Request,
    ref: str,
    referral_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    me: Staff,
    db: DbSession,
    now: Now,
    settings: SettingsDep,
    content: ContentDep,
    cipher: CipherDep,
) -> Response:
    """Send the referral's service a new code by SMS (earlier ones stop working)."""
    case = load(db, ref)
    try:
        referral = find_referral(db, case, referral_id)
    except ReferralNotFound:
        raise HTTPException(status_code=404, detail="no such referral") from None
    try:
        partner_codes.offer(
            db, cipher, content.tr, settings, referral=referral, actor=me.username, now=now
        )
    except PartnerSmsRefused as exc:
        db.rollback()
        db.refresh(case)
        why = Refusal(REFUSED_CODE, str(exc))
        return show(request, db, me, case, now, status=409, refused=why)
    db.commit()
    return back(case, settings, CODE_SENT, "#referrals")


@router.post("/cases/{ref}/referrals/{referral_id}")
def follow(
    request: Request,
    ref: str,
    referral_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    me: Staff,
    db: DbSession,
    now: Now,
    settings: SettingsDep,
    to: Annotated[str, Form(max_length=16)],
    reason: Annotated[str, Form(max_length=MAX_REASON)] = "",
    outcome: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Move a referral on: accepted, rejected (a reason), revoked, done (an outcome)."""
    case = load(db, ref)
    try:
        referral = find_referral(db, case, referral_id)
    except ReferralNotFound:
        raise HTTPException(status_code=404, detail="no such referral") from None
    if referral.status == to:  # a retried form: it is done already
        return back(case, settings, ALREADY, "#referrals")
    try:
        update_referral(
            db,
            referral,
            actor=me.operator,
            to=to,
            reason=reason,
            outcome=outcome if outcome in {o.value for o in Outcome} else None,
            now=now,
        )
    except (IllegalTransition, ReferralRefused, ReferralConflict) as exc:
        db.rollback()
        db.refresh(case)
        moves = allowed(referral.status)
        message = INVALID if to in moves else NOT_MOVED
        why = Refusal(message, str(exc), () if to in moves else tuple(moves))
        log.info("case %s: referral change refused", case.id)
        return show(request, db, me, case, now, status=422 if to in moves else 409, refused=why)
    db.commit()
    return back(case, settings, UPDATED, "#referrals")
