"""SMS through Africa's Talking: a screen as one text folded to GSM-7, paged to 2 parts at most.

Inbound messages are posted (form) to ``/sms/africastalking/{token}``::

    from=+243000000000&to=12345&text=AIDE&date=2026-11-22 07:00:00&id=ATXid_9c1&linkId=

The callback answers 200 at once; the reply goes out through the outbox. Delivery reports
arrive at ``/sms/africastalking/{token}/delivery`` (``id``, ``status``, ``failureReason``).
"""

from __future__ import annotations

import logging
import re

from fastapi import APIRouter, HTTPException, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from bot.channels import inbound
from bot.channels.sms import staff
from bot.channels.sms.render import SmsRenderer
from bot.core.privacy import normalise_phone, pseudonym
from bot.deps import (
    CallbackToken,
    CipherDep,
    ContentDep,
    ConversationsDep,
    EngineDep,
    NotifierDep,
    Now,
    SettingsDep,
)
from bot.outbox import queue

log = logging.getLogger(__name__)
router = APIRouter(tags=["sms"])
KEYWORDS = {"HELP": "en", "AIDE": "fr", "LISALISI": "ln", "THUSO": "st"}
"""Words that open the main menu in a language, whatever came before."""
MENU = ("main", "menu")
_WORD = re.compile(r"[^A-Z]")


def keyword_language(text: str, extra: dict[str, str]) -> str | None:
    """The language of a keyword message (``aide``, ``Thuso!``), or None for anything else."""
    words = text.strip().split()
    if len(words) != 1:
        return None
    word = _WORD.sub("", words[0].upper())
    return extra.get(word) or KEYWORDS.get(word)


async def _form(request: Request, required: tuple[str, ...]) -> dict[str, str]:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    missing = [name for name in required if not fields.get(name)]
    if missing:
        log.warning("sms callback refused: missing %s", ", ".join(missing))
        raise HTTPException(status_code=400, detail=f"missing field(s): {', '.join(missing)}")
    return fields


@router.post("/sms/africastalking/{token}", dependencies=[CallbackToken])
async def sms_inbound(
    request: Request,
    settings: SettingsDep,
    content: ContentDep,
    conversations: ConversationsDep,
    engine: EngineDep,
    cipher: CipherDep,
    notifier: NotifierDep,
    now: Now,
) -> dict[str, str]:
    """One inbound SMS: run the conversation, queue the reply; a retry creates nothing twice.

    An on-call operator's command or a partner's code reply (``staff``) is answered instead."""
    fields = await _form(request, ("from", "text", "id"))
    if len(fields["id"]) > 128 or len(fields["text"]) > 2000:
        log.warning("sms callback refused: malformed id or text")
        raise HTTPException(status_code=400, detail="malformed id or text")
    key_secret = settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else ""
    try:
        number = normalise_phone(fields["from"], settings.default_region or None)
        contact = pseudonym(key_secret, "phone", number)
    except ValueError:
        log.warning("sms callback refused: 'from' is not a number")
        raise HTTPException(status_code=400, detail="malformed from") from None
    # Seen for good only with its reply (same transaction); until then a copy is "busy".
    verdict = await run_in_threadpool(
        inbound.accept,
        engine,
        channel="sms",
        provider_id=fields["id"],
        contact=contact,
        hourly_limit=settings.sms_hourly_limit,
        answer_key=reply_key(fields["id"]),
    )
    if verdict == "busy":
        raise HTTPException(
            status_code=503, detail="being handled; try again", headers={"Retry-After": "30"}
        )
    if verdict != "new":
        return {"status": verdict}

    async def converse() -> int:
        renderer = SmsRenderer(content.tr)
        key = f"sms:{contact}"
        text = fields["text"]
        lang = keyword_language(text, settings.sms_keyword_map)
        if lang is not None:
            screen = await conversations.start(
                key,
                renderer,
                lang,
                flow=MENU[0],
                at=MENU[1],
                contact=contact,
                address=number,
            )
        else:  # the running conversation, else a new one (in a remembered language, if any)
            lang = settings.default_language
            screen = await conversations.message(
                key, text, renderer, lang, contact=contact, address=number
            )
        lang = renderer.lang or lang
        message_id = await run_in_threadpool(
            _queue_reply, engine, cipher, fields["id"], contact, number, screen.text, lang
        )
        return message_id

    try:
        # On call by SMS: a command from a registered number is answered; None: a reporter's.
        command_reply = await run_in_threadpool(
            lambda: staff.handle(
                engine,
                cipher,
                content.tr,
                secret=key_secret,
                answer_key=reply_key(fields["id"]),
                contact=contact,
                number=number,
                text=fields["text"],
                now=now,
                hotline_number=settings.public_number,
                default_lang=settings.default_language,
            )
        )
        message_id = command_reply if command_reply is not None else await converse()
    except Exception:
        # Nothing was answered: forget the message so Africa's Talking's retry is processed.
        log.exception("sms could not be processed; the provider will retry it")
        await run_in_threadpool(inbound.forget, engine, channel="sms", provider_id=fields["id"])
        raise HTTPException(status_code=503, detail="temporarily unavailable") from None
    await notifier.notify([message_id])
    return {"status": "accepted"}


def reply_key(inbound_id: str) -> str:
    """The outbox key of the reply to one inbound SMS: its commit marks the SMS seen."""
    return f"sms-reply:{inbound_id}"


def _queue_reply(
    engine: EngineDep,
    cipher: CipherDep,
    inbound_id: str,
    contact: str,
    to: str,
    body: str,
    lang: str,
) -> int:
    with Session(engine) as session:
        message = queue.enqueue(
            session,
            cipher,
            key=reply_key(inbound_id),
            channel="sms",
            purpose="reply",
            contact=contact,
            recipient=to,
            body=body,
            lang=lang,
        )
        session.commit()
        assert message.id is not None
        return message.id


@router.post("/sms/africastalking/{token}/delivery", dependencies=[CallbackToken])
async def sms_delivery_report(request: Request, engine: EngineDep) -> dict[str, str]:
    """A delivery report: kept against the outbound message (the phone number is not read)."""
    fields = await _form(request, ("id", "status"))
    if fields["status"] not in queue.REPORT_STATUSES:
        log.warning("delivery report refused: unknown status")
        raise HTTPException(status_code=400, detail="unknown status")
    known = await run_in_threadpool(
        queue.record_report,
        engine,
        provider_message_id=fields["id"][:128],
        status=fields["status"],
        failure_reason=(fields.get("failureReason") or "")[:128] or None,  # the column's size
    )
    if not known:
        log.info("delivery report for a message this hotline did not send (kept)")
    return {"status": "recorded" if known else "unknown message"}
