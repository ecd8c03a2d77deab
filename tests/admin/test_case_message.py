"""The case page answers the person through the bot: once, only for whom the service allows."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from bot.models import OutboundMessage
from tests.admin.conftest import Web
from tests.api import new_case
from tests.conftest import assert_no_phone_numbers, database_text

ONCE = re.compile(
    r'action="/cases/[^/]+/message">\s*<input type="hidden" name="csrf" value="[^"]+">'
    r'<input type="hidden" name="once" value="([^"]+)"'
)
CHAT = "telegram:424242"


def outbox(web: Web) -> list[OutboundMessage]:
    """The messages queued to a person by the team (not the case's receipt)."""
    with Session(web.engine) as db:
        rows = db.exec(select(OutboundMessage)).all()
        return [m for m in rows if m.key.startswith("person:")]


def test_the_holder_sends_a_message_once_even_if_the_form_is_sent_again(web: Web) -> None:
    ref = new_case(web.engine, address=CHAT, consent_contact=True)
    web.as_("amani")
    assert web.post(f"/cases/{ref}/claim").status_code == 303
    page = web.client.get(f"/cases/{ref}").text
    once = ONCE.search(page)
    assert once is not None
    form = {"body": "Bonjour, nous pouvons vous aider.", "once": once.group(1)}
    first = web.post(f"/cases/{ref}/message", form)
    assert first.status_code == 303
    again = web.post(f"/cases/{ref}/message", form)
    assert again.status_code == 303
    queued = outbox(web)
    assert len(queued) == 1 and queued[0].channel == "telegram"
    text = database_text(web.engine)
    assert "424242" not in text and "nous pouvons vous aider" not in text
    assert_no_phone_numbers(text)
    shown = web.client.get(f"/cases/{ref}").text
    assert shown.count("<small>message envoyé à la personne par le bot</small>") == 1


def test_a_non_holder_sees_no_form_and_a_forged_one_is_refused(web: Web) -> None:
    ref = new_case(web.engine, address=CHAT, consent_contact=True)
    web.as_("amani")
    assert 'action="/cases/' + ref + '/message"' not in web.client.get(f"/cases/{ref}").text
    forged = web.post(f"/cases/{ref}/message", {"body": "hello", "once": "x" * 20})
    assert forged.status_code == 403
    assert outbox(web) == []


def test_a_supervisor_sees_the_form_only_for_a_telegram_chat_with_consent(web: Web) -> None:
    chat = new_case(web.engine, address=CHAT, consent_contact=True)
    no_consent = new_case(web.engine, address=CHAT)
    web.as_("joseph")
    assert "Send through the bot" in web.client.get(f"/cases/{chat}").text
    assert "Send through the bot" not in web.client.get(f"/cases/{no_consent}").text
    refused = web.post(f"/cases/{no_consent}/message", {"body": "hello"})
    assert refused.status_code == 409 and "cannot be done now" in refused.text
    assert outbox(web) == []


def test_a_message_without_the_csrf_token_is_refused(web: Web) -> None:
    ref = new_case(web.engine, address=CHAT, consent_contact=True)
    web.as_("joseph")
    refused = web.client.post(f"/cases/{ref}/message", data={"body": "hello"})
    assert refused.status_code == 403
    assert outbox(web) == []
