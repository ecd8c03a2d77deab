"""The routing hook of the SMS callback: an on-call operator's command or a partner service's
code reply is answered here; every other message goes to the reporter's conversation.

The rule (see ``bot.cases.sms_commands`` and ``bot.cases.partner_codes``): the message must
read as a command (``1 K7QM-46``, ``2 K7QM-46``; ``K7QM4C ACCEPT``) **and** come from a number
registered for it (an active operator's on-call phone; a phone a partner code was sent to),
both recognised by pseudonym. Then the command acts and its answer is queued in the same
transaction, under the inbound SMS's answer key, so a retried SMS acts once. Otherwise nothing
is written and ``handle`` returns None: the text is a reporter's, and never enters an operator
or partner path.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.cases import partner_codes, sms_commands
from bot.core.privacy import Cipher
from bot.i18n.translate import Translate
from bot.outbox import queue

log = logging.getLogger(__name__)


def handle(
    engine: Engine,
    cipher: Cipher,
    tr: Translate,
    *,
    secret: str,
    answer_key: str,
    contact: str,
    number: str,
    text: str,
    now: datetime,
    hotline_number: str,
    default_lang: str = "en",
) -> int | None:
    """Answer an operator's command or a partner's reply (blocking: run in a thread); the
    outbox id of the answer, or None when the message is a reporter's."""
    command = sms_commands.parse(text)
    reply = partner_codes.parse(text)
    if command is None and reply is None:
        return None
    with Session(engine) as session:
        answered: tuple[str, str, str, str] | None = None
        if command is not None:
            operator = sms_commands.operator_for(session, cipher, secret, contact)
            if operator is not None:
                body = sms_commands.run(session, tr, operator=operator, command=command, now=now)
                answered = body, operator.lang, f"op_{operator.id}", "command"
        if answered is None and reply is not None and partner_codes.known_partner(session, contact):
            body, lang = partner_codes.answer(
                session,
                tr,
                secret=secret,
                contact=contact,
                reply=reply,
                now=now,
                hotline_number=hotline_number,
                default_lang=default_lang,
            )
            answered = body, lang, contact, "partner"
        if answered is None:
            session.commit()  # operators' phone pseudonyms filled in on the way, if any
            return None
        body, lang, to_contact, purpose = answered
        message = queue.enqueue(
            session,
            cipher,
            key=answer_key,
            channel="sms",
            purpose=purpose,
            contact=to_contact,
            recipient=number,
            body=body,
            lang=lang,
        )
        session.commit()
        assert message.id is not None
        return message.id
