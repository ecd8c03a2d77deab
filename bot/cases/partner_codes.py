"""Partner services confirm a referral by SMS: a one-time code, then ``CODE ACCEPT`` or
``CODE DECLINE`` (and later ``CODE DONE``).

The message to the service's registered phone (the first number of the directory entry that
reads as one) is neutral: the case's reference, the service, what to reply. Never what was
reported, never the person's details. The database keeps HMAC(pseudonym key, code) and the
pseudonym of the phone it went to, never either in clear.

A reply moves the referral through its state machine (``bot.cases.referrals.partner_update``):
ACCEPT ``in_progress → accepted``, DECLINE ``in_progress → rejected`` (the words after it are
the reason), DONE ``accepted → done`` (successful). A declined or done referral spends its
code. A code that is unknown, spent, expired (``HOTLINE_PARTNER_CODE_DAYS``) or sent from any
other number changes nothing and gets one neutral answer. Replies are recognised only from
numbers a code was sent to: from any other number the text is a reporter's message.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.cases.reference import LETTERS
from bot.cases.referrals import ReferralStatus, partner_update
from bot.cases.status import IllegalTransition
from bot.core.languages import is_language
from bot.core.privacy import Cipher, normalise_phone, pseudonym
from bot.core.settings import Settings
from bot.governance import audit
from bot.i18n import ui
from bot.i18n.translate import Translate
from bot.models import AuditEntry, Case, CaseEvent, PartnerCode, Referral, Service
from bot.outbox import queue

log = logging.getLogger(__name__)

CODE_LENGTH = 6
SERVICE_SHOWN = 30
"""Characters of the service's name in the message (one SMS part, ``ui.ONE_PART``)."""
WORDS = {
    "ACCEPT": ReferralStatus.ACCEPTED.value,
    "ACCEPTE": ReferralStatus.ACCEPTED.value,
    "ACCEPTER": ReferralStatus.ACCEPTED.value,
    "DECLINE": ReferralStatus.REJECTED.value,
    "REFUSE": ReferralStatus.REJECTED.value,
    "REFUSER": ReferralStatus.REJECTED.value,
    "DONE": ReferralStatus.DONE.value,
    "FAIT": ReferralStatus.DONE.value,
    "FINI": ReferralStatus.DONE.value,
}
"""The reply words (English, and French as people type it), whatever the message's language."""
_REPLY = re.compile(r"\s*([A-Za-z0-9]{6})[\s.,:;-]+([A-Za-z]+)(?:[\s.,:;-]+(.*))?", re.DOTALL)
_PHONE_SPLIT = re.compile(r"[,;/]")


class PartnerSmsRefused(ValueError):
    """No code can be sent: the service has no phone, or the referral is no longer running."""


@dataclass(frozen=True)
class Reply:
    """A partner's reply: the code as typed (normalised), the status asked for, a reason."""

    code: str
    to: str
    reason: str | None


def code_key(secret: str) -> bytes:
    """The key codes are hashed under: HMAC(pseudonym key, "partner-code"), for this use only."""
    if not secret.strip():
        raise RuntimeError("no HOTLINE_PSEUDONYM_KEY to derive the partner code key from")
    return hmac.new(secret.encode(), b"partner-code", hashlib.sha256).digest()


def code_hash(key: bytes, code: str) -> str:
    """What the database keeps of a code."""
    return hmac.new(key, b"code:" + code.encode(), hashlib.sha256).hexdigest()


def parse(text: str) -> Reply | None:
    """A reply such as ``K7QM4C ACCEPT`` or ``k7qm4c decline no bed``; None for anything else."""
    found = _REPLY.fullmatch(text)
    if found is None:
        return None
    code = found.group(1).upper()
    to = WORDS.get(found.group(2).upper())
    if to is None or any(c not in LETTERS for c in code):
        return None
    reason = " ".join((found.group(3) or "").split())[:200] or None
    return Reply(code, to, reason)


def service_phone(service: Service, region: str | None = None) -> str | None:
    """The service's registered phone for SMS: its first listed number that reads as one."""
    for written in _PHONE_SPLIT.split(service.phones or ""):
        try:
            return normalise_phone(written, region)
        except ValueError:
            continue
    return None


def service_lang(service: Service, default: str) -> str:
    """The language a service is written to in: the first it lists, else ``default``."""
    for lang in (service.languages or "").split(","):
        if is_language(lang.strip()):
            return lang.strip()
    return default


def send_code(
    session: Session,
    cipher: Cipher,
    tr: Translate,
    *,
    referral: Referral,
    actor: str,
    secret: str,
    days: int,
    now: datetime,
    region: str | None = None,
    default_lang: str = "en",
) -> int:
    """Send the referral's service a new code by SMS (earlier codes of this referral stop
    working); returns the outbox id. PartnerSmsRefused when it cannot be sent. Timeline and
    audit say a code was sent, never the code or the number. The caller commits."""
    assert referral.id is not None
    if referral.status not in (ReferralStatus.IN_PROGRESS, ReferralStatus.ACCEPTED):
        raise PartnerSmsRefused(f"referral {referral.id} is {referral.status}: nothing to confirm")
    service = session.get(Service, referral.service_id)
    case = session.get(Case, referral.case_id)
    assert service is not None and case is not None and case.id is not None
    phone = service_phone(service, region)
    if phone is None:
        raise PartnerSmsRefused(f"{service.name} has no phone number that can receive an SMS")
    key = code_key(secret)
    session.execute(
        update(PartnerCode)
        .where(col(PartnerCode.referral_id) == referral.id, col(PartnerCode.used_at).is_(None))
        .values(used_at=now)
    )
    code = "".join(secrets.choice(LETTERS) for _ in range(CODE_LENGTH))
    contact = pseudonym(secret, "phone", phone)
    row = PartnerCode(
        referral_id=referral.id,
        code_hash=code_hash(key, code),
        contact=contact,
        created_by=actor,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(row)
    session.flush()
    lang = service_lang(service, default_lang)
    text = tr(lang, ui.PARTNER_REFERRAL).format(
        reference=case.reference, service=service.name[:SERVICE_SHOWN].strip(), code=code
    )
    message = queue.enqueue(
        session,
        cipher,
        key=f"partner-code:{row.id}",
        channel="sms",
        purpose="partner",
        contact=contact,
        recipient=phone,
        body=text,
        lang=lang,
    )
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor=actor,
            kind="referral",
            detail=f"referral {referral.id} to {service.name}: code sent by SMS"[:300],
        )
    )
    session.add(
        AuditEntry(
            at=now,
            actor=actor,
            action="partner_sms",
            case_id=case.id,
            reason=f"referral {referral.id}",
        )
    )
    assert message.id is not None
    return message.id


def known_partner(session: Session, contact: str) -> bool:
    """Was a code ever sent to this number (a pseudonym)? Only then is a reply read as one."""
    found = session.exec(select(PartnerCode.id).where(col(PartnerCode.contact) == contact))
    return found.first() is not None


def answer(
    session: Session,
    tr: Translate,
    *,
    secret: str,
    contact: str,
    reply: Reply,
    now: datetime,
    hotline_number: str,
    default_lang: str = "en",
) -> tuple[str, str]:
    """Act on a partner's reply; the answer and its language. The caller commits."""
    row = session.exec(
        select(PartnerCode).where(
            col(PartnerCode.code_hash) == code_hash(code_key(secret), reply.code)
        )
    ).first()
    latest = session.exec(  # the language of this number's last code, for a wrong one
        select(PartnerCode)
        .where(col(PartnerCode.contact) == contact)
        .order_by(col(PartnerCode.id).desc())
    ).first()
    referral = session.get(Referral, row.referral_id) if row is not None else None
    spoken = session.get(Referral, latest.referral_id) if latest is not None else None
    named = referral or spoken
    service = session.get(Service, named.service_id) if named is not None else None
    lang = service_lang(service, default_lang) if service is not None else default_lang
    refused = tr(lang, ui.PARTNER_REFUSED).format(hotline_number=hotline_number)
    if (
        row is None
        or referral is None
        or not hmac.compare_digest(row.contact, contact)
        or row.used_at is not None
        or row.expires_at <= now
    ):
        audit.record(
            session, actor="partner", action="refused", reason="partner code by SMS", at=now
        )
        log.warning("partner code by SMS refused (unknown, spent, expired or another number)")
        return refused, lang
    case = session.get(Case, referral.case_id)
    assert case is not None
    reference = case.reference
    if referral.status == reply.to:
        return tr(lang, ui.PARTNER_ALREADY).format(reference=reference), lang
    reason = reply.reason
    if reply.to == ReferralStatus.REJECTED and reason is None:
        reason = "declined by the partner by SMS"
    try:
        partner_update(
            session,
            referral,
            to=reply.to,
            reason=reason,
            outcome="successful" if reply.to == ReferralStatus.DONE else None,
            now=now,
        )
    except IllegalTransition:
        log.info("referral %s: partner's %s refused by the state machine", referral.id, reply.to)
        return refused, lang
    if reply.to != ReferralStatus.ACCEPTED:
        row.used_at = now
        session.add(row)
    log.info("referral %s: %s by the partner by SMS", referral.id, reply.to)
    if reply.to == ReferralStatus.ACCEPTED:
        done = tr(lang, ui.PARTNER_ACCEPTED).format(reference=reference, code=reply.code)
    elif reply.to == ReferralStatus.REJECTED:
        done = tr(lang, ui.PARTNER_DECLINED).format(reference=reference)
    else:
        done = tr(lang, ui.PARTNER_DONE).format(reference=reference)
    return done, lang


def offer(
    session: Session,
    cipher: Cipher,
    tr: Translate,
    settings: Settings,
    *,
    referral: Referral,
    actor: str,
    now: datetime,
) -> int:
    """``send_code`` as the settings say (key, expiry, region, language): what the case page's
    referral form and the JSON API call when a referral is to be confirmed by SMS."""
    secret = settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else ""
    return send_code(
        session,
        cipher,
        tr,
        referral=referral,
        actor=actor,
        secret=secret,
        days=settings.partner_code_days,
        now=now,
        region=settings.default_region or None,
        default_lang=settings.default_language,
    )
