"""USSD through Africa's Talking: CON/END screens of at most 182 GSM-7 characters after folding.

Africa's Talking posts (form) to ``/ussd/africastalking/{token}``::

    sessionId=ATUid_1f2e&serviceCode=*384*12#&phoneNumber=+243000000000&networkCode=63001&text=2*1

where ``text`` is every input of the session joined by ``*`` (the first request may already
carry input dialled with the code, ``*384*12*3#`` -> ``3``). A response body looks like::

    CON Choose your language
    1 English
    2 Francais
    3 Lingala
    4 Sesotho
    0 Exit
"""

from __future__ import annotations

import hashlib
import logging
from functools import partial
from typing import cast
from urllib.parse import unquote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from bot.channels.ussd.render import UssdRenderer, response
from bot.content.files import Content
from bot.conversation.service import Conversations
from bot.core.privacy import normalise_phone, pseudonym
from bot.core.settings import Settings
from bot.deps import verify_callback_token
from bot.i18n import ui
from bot.i18n.gsm7 import fold
from bot.sessions import SessionBusy

log = logging.getLogger(__name__)
router = APIRouter(tags=["ussd"])
REQUIRED = ("sessionId", "serviceCode", "phoneNumber", "text")
MAX_TEXT = 5000
MAX_FIELDS = 50


def session_key(session_id: str) -> str:
    """The session store key of a USSD session (provider ids are hashed, never stored as sent)."""
    return "ussd:" + hashlib.sha256(session_id.encode()).hexdigest()[:32]


def new_inputs(text: str, previous: str | None) -> list[str] | None:
    """What a request adds to the session: Africa's Talking's ``text`` is cumulative.

    A new session's ``text`` holds whatever was dialled with the code (``3*1`` -> two inputs);
    after that each request adds one input after a ``*``, which may itself contain ``*`` or be
    empty. A ``text`` the previous one extends is a late retry of an earlier request: None
    (nothing to apply). Any other ``text`` that does not extend the previous one is taken at
    its last segment.
    """
    if previous is None:
        return text.split("*") if text else []
    if previous.startswith(text + "*") or (text == "" and previous != ""):
        return None
    if previous == "":
        return [text]
    if text.startswith(previous + "*"):
        return [text[len(previous) + 1 :]]
    log.warning("ussd text does not extend the previous request; using its last input")
    return [text.rsplit("*", 1)[-1]]


async def _fields(request: Request) -> dict[str, str]:
    """The posted form. Africa's Talking posts urlencoded fields: parsed here in one call, a
    fifth of the cost of a general form parser on this path (multipart still goes to it)."""
    if request.headers.get("content-type", "").startswith("multipart/"):
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    body = (await request.body()).decode("utf-8", "replace")
    if body.count("&") >= MAX_FIELDS:
        log.warning("ussd callback refused: too many fields")
        raise HTTPException(status_code=400, detail="too many fields")
    return parse_form(body)


def parse_form(body: str) -> dict[str, str]:
    """An urlencoded body's fields, the last of a repeated name kept: what
    ``dict(parse_qsl(body, keep_blank_values=True))`` gives, at a third of its cost (most
    fields here have nothing to unquote)."""
    fields: dict[str, str] = {}
    for pair in body.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            fields[_unquote(name)] = _unquote(value)
    return fields


def _unquote(text: str) -> str:
    if "+" in text:
        text = text.replace("+", " ")
    return unquote(text) if "%" in text else text


async def _form(request: Request) -> dict[str, str]:
    fields = await _fields(request)
    missing = [name for name in REQUIRED if name not in fields]
    if missing:
        log.warning("ussd callback refused: missing %s", ", ".join(missing))
        raise HTTPException(status_code=400, detail=f"missing field(s): {', '.join(missing)}")
    if not fields["sessionId"] or len(fields["sessionId"]) > 200 or len(fields["text"]) > MAX_TEXT:
        log.warning("ussd callback refused: malformed sessionId or text")
        raise HTTPException(status_code=400, detail="malformed sessionId or text")
    return fields


def _end(text: str, lang: str) -> PlainTextResponse:
    return PlainTextResponse("END " + fold(text, lang))


async def _app_parts(request: Request) -> tuple[Settings, Content, Conversations]:
    """Settings, content and conversations of the running app, once the path token is checked.

    The USSD callbacks are the hot path (every keypress of every caller): they read the app's
    state in one step instead of through five FastAPI dependencies, which measured a fifth of
    the request's CPU. Everything else uses ``bot.deps``.
    """
    state = request.app.state
    settings = cast(Settings, state.settings)
    await verify_callback_token(str(request.path_params.get("token", "")), settings)
    return settings, cast(Content, state.content), cast(Conversations, state.conversations)


async def ussd_callback(request: Request) -> PlainTextResponse:
    """One USSD request: apply what it adds to the session, answer with the next screen."""
    settings, content, conversations = await _app_parts(request)
    fields = await _form(request)
    lang = settings.default_language
    codes = settings.service_codes
    if codes and fields["serviceCode"] not in codes:
        log.info("ussd request for a service code this deployment does not serve")
        return _end(content.tr(lang, ui.WRONG_CODE), lang)
    try:
        number = normalise_phone(fields["phoneNumber"], settings.default_region or None)
        contact = pseudonym(_pseudonym_key(settings), "phone", number)
    except ValueError:
        log.warning("ussd callback refused: phoneNumber is not a number")
        raise HTTPException(status_code=400, detail="malformed phoneNumber") from None
    text = fields["text"]
    key = session_key(fields["sessionId"])
    try:
        screen = await conversations.exchange(
            key,
            UssdRenderer(content.tr),
            lang,
            request=text,
            inputs=partial(new_inputs, text),
            contact=contact,
            address=number,
        )
    except SessionBusy:
        log.warning("ussd session %s busy", key[5:13])
        return _end(content.tr(lang, ui.BUSY), lang)
    except Exception:
        log.exception("ussd session %s failed; nothing was acknowledged", key[5:13])
        message = content.tr(lang, ui.NOT_SAVED).format(hotline_number=settings.public_number)
        return _end(message, lang)
    return PlainTextResponse(response(screen))


async def ussd_session_end(request: Request) -> JSONResponse:
    """Africa's Talking says a session ended (``sessionId``, ``status``, ...): forget it."""
    _, _, conversations = await _app_parts(request)
    session_id = (await _fields(request)).get("sessionId")
    if not isinstance(session_id, str) or not session_id:
        log.warning("ussd end notification refused: missing sessionId")
        raise HTTPException(status_code=400, detail="missing field(s): sessionId")
    try:
        await conversations.end(session_key(session_id))
    except SessionBusy:  # a request is still running; the session expires on its own
        log.info("ussd end notification while the session is busy; left to expire")
    return JSONResponse({"status": "ok"})


def _pseudonym_key(settings: Settings) -> str:
    return settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else ""


# Plain Starlette routes: no dependency solving or response validation on the hot path.
router.add_route("/ussd/africastalking/{token}", ussd_callback, methods=["POST"])
router.add_route("/ussd/africastalking/{token}/end", ussd_session_end, methods=["POST"])
