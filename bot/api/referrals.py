"""Finding services and referring cases to them (``bot.directory``, ``bot.cases.referrals``).

==========================================  ==========  =====================================
route                                       who         what
==========================================  ==========  =====================================
``GET /api/services?area=&service_type=…``  operator+   active services that fit the person
``POST /api/cases/{ref}/referrals``         operator+   ``{service_id, override_reason?}``
``POST /api/referrals/{id}/status``         operator+   ``{to, reason?, outcome?}``
``POST /api/referrals/{id}/partner-code``   operator+   a new code to the service by SMS
==========================================  ==========  =====================================

With ``confirm_by_sms`` (or later, ``partner-code``), the service's registered phone gets a
neutral SMS with a one-time code; the partner replies ``CODE ACCEPT`` / ``CODE DECLINE``, then
``CODE DONE`` (``bot.cases.partner_codes``). A service without a phone: 409, nothing made.

A referral without the person's consent is refused (409) unless a supervisor or an admin
records an override reason; the referral module enforces that and audits it.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from bot.api.auth import Staff
from bot.api.cases import load_case
from bot.api.request import MAX_ID, DbId, DbSession, Now, Ref
from bot.cases import partner_codes
from bot.cases.partner_codes import PartnerSmsRefused
from bot.cases.referrals import IllegalTransition, ReferralRefused, create_referral, update_referral
from bot.deps import CipherDep, ContentDep, EngineDep, SettingsDep
from bot.directory.search import find
from bot.directory.validate import ServiceFields
from bot.models import Case, Referral, Service

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["referrals"])


class ServiceOut(BaseModel):
    """A service in the directory (public information)."""

    id: int
    name: str
    organisation: str
    service_type: str
    areas: list[str]
    phones: str
    hours: str
    languages: list[str]
    min_age: int | None
    max_age: int | None
    genders: str
    last_verified: date | None


class ReferralIn(BaseModel):
    """Refer the case to a service; without consent, a supervisor's override reason."""

    model_config = ConfigDict(extra="forbid")

    service_id: int = Field(ge=1, le=MAX_ID)
    override_reason: str | None = Field(default=None, max_length=300)
    confirm_by_sms: bool = False
    """Send the service's phone a one-time code to accept / decline / complete by SMS."""


class ReferralChange(BaseModel):
    """A referral's next step: accepted, rejected (reason), revoked, done (outcome)."""

    model_config = ConfigDict(extra="forbid")

    to: Literal["accepted", "rejected", "revoked", "done"]
    reason: str | None = Field(default=None, max_length=300)
    outcome: Literal["successful", "not_successful"] | None = None


class ReferralOut(BaseModel):
    """A referral as it stands."""

    id: int
    case: str
    service_id: int
    service: str
    status: str
    outcome: str | None
    override: bool
    updated_at: datetime


def _service_out(service: Service) -> ServiceOut:
    assert service.id is not None
    shown = ServiceFields.of(service)
    return ServiceOut(
        id=service.id,
        name=shown.name,
        organisation=shown.organisation,
        service_type=shown.service_type,
        areas=list(shown.areas),
        phones=shown.phones,
        hours=shown.hours,
        languages=list(shown.languages),
        min_age=shown.min_age,
        max_age=shown.max_age,
        genders=shown.genders,
        last_verified=shown.last_verified,
    )


def _referral_out(db: Session, referral: Referral, reference: str) -> ReferralOut:
    service = db.get(Service, referral.service_id)
    assert referral.id is not None and service is not None
    return ReferralOut(
        id=referral.id,
        case=reference,
        service_id=referral.service_id,
        service=service.name,
        status=referral.status,
        outcome=referral.outcome,
        override=referral.override_by is not None,
        updated_at=referral.updated_at,
    )


@router.get("/services")
def find_services(
    me: Staff,
    engine: EngineDep,
    content: ContentDep,
    area: Annotated[str | None, Query(max_length=120)] = None,
    service_type: Annotated[str | None, Query(max_length=32)] = None,
    lang: Annotated[str | None, Query(max_length=8)] = None,
    age: Annotated[int | None, Query(ge=0, le=120)] = None,
    gender: Annotated[str | None, Query(max_length=8)] = None,
) -> list[ServiceOut]:
    """Active services that fit every filter given (an area: also those of the places above)."""
    try:
        found = find(
            engine,
            area=area,
            service_type=service_type,
            lang=lang,
            age=age,
            gender=gender,
            tree=content.areas,
        )
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return [_service_out(service) for service in found]


@router.post("/cases/{ref}/referrals", status_code=201)
def refer_case(
    ref: Ref,
    body: ReferralIn,
    me: Staff,
    db: DbSession,
    now: Now,
    cipher: CipherDep,
    content: ContentDep,
    settings: SettingsDep,
) -> ReferralOut:
    """Refer the case to a service (consent, or a supervisor's recorded override)."""
    case = load_case(db, ref)
    service = db.get(Service, body.service_id)
    if service is None:
        raise HTTPException(status_code=422, detail=f"no service {body.service_id}")
    try:
        referral = create_referral(
            db,
            case=case,
            service=service,
            actor=me,
            override_reason=body.override_reason,
            now=now,
        )
        if body.confirm_by_sms:
            partner_codes.offer(
                db, cipher, content.tr, settings, referral=referral, actor=me.username, now=now
            )
    except (ReferralRefused, PartnerSmsRefused) as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    shown = _referral_out(db, referral, case.reference)
    db.commit()
    return shown


@router.post("/referrals/{referral_id}/partner-code", status_code=202)
def partner_code(
    referral_id: DbId,
    me: Staff,
    db: DbSession,
    now: Now,
    cipher: CipherDep,
    content: ContentDep,
    settings: SettingsDep,
) -> dict[str, str]:
    """Send the referral's service a new one-time code by SMS (earlier ones stop working)."""
    referral = db.get(Referral, referral_id)
    if referral is None:
        raise HTTPException(status_code=404, detail=f"no referral {referral_id}")
    try:
        partner_codes.offer(
            db, cipher, content.tr, settings, referral=referral, actor=me.username, now=now
        )
    except PartnerSmsRefused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    db.commit()
    return {"status": "sent"}


@router.post("/referrals/{referral_id}/status")
def change_referral(
    referral_id: DbId, body: ReferralChange, me: Staff, db: DbSession, now: Now
) -> ReferralOut:
    """Move a referral on: accepted, rejected (with a reason), revoked, done (with an outcome)."""
    referral = db.get(Referral, referral_id)
    if referral is None:
        raise HTTPException(status_code=404, detail=f"no referral {referral_id}")
    try:
        update_referral(
            db,
            referral,
            actor=me,
            to=body.to,
            reason=body.reason,
            outcome=body.outcome,
            now=now,
        )
    except (IllegalTransition, ReferralRefused) as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    case = db.get(Case, referral.case_id)
    assert case is not None
    shown = _referral_out(db, referral, case.reference)
    db.commit()
    return shown
