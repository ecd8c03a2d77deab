"""A local stand-in for the Telegram Bot API, to run the hotline's bot end to end without Telegram.

Serves the methods the hotline uses at ``/bot{token}/{method}`` (JSON, form or query
parameters; answers ``{"ok": true, "result": ...}`` as Telegram does) and keeps each chat's
visible messages with their inline keyboards. A small control API plays the person:

- ``POST /_user/{chat_id}/text`` ``{"text": "/start", "language_code": "fr"}``: the person
  sends a message (``/…`` is a command);
- ``POST /_user/{chat_id}/tap`` ``{"label": "English"}``: the person taps the button with this
  label on the newest message that has buttons (or on ``message_id``);
- ``GET /_user/{chat_id}/messages``: what the chat shows, oldest first.

Each action builds an Update shaped as Telegram's and posts it to the webhook, with the secret in
``X-Telegram-Bot-Api-Secret-Token``; the answer is the webhook's status and what the chat shows
after. The webhook is given when the fake starts, or registered through ``setWebhook`` as
``hotline telegram set-webhook`` does. Everything lives in memory; nothing is sent anywhere else.

Run it with ``hotline telegram fake-api`` (see the README's "Telegram bot" section). The test
suite's respx mock of the Bot API answers through the same ``FakeBotApi`` (``respond``).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
BOT_USER = {
    "is_bot": True,
    "first_name": "Hotline (fake)",
    "username": "hotline_fake_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
JSON_PARAMS = ("reply_markup", "message_ids", "allowed_updates", "commands", "entities")
"""Parameters sent as JSON text in form bodies."""


@dataclass
class Shown:
    """A message as the chat shows it."""

    message_id: int
    text: str
    from_bot: bool
    keyboard: list[list[dict[str, Any]]] = field(default_factory=list)
    """Inline keyboard rows: ``{"text": label, "callback_data": data}``."""

    def labels(self) -> list[str]:
        return [button["text"] for row in self.keyboard for button in row]

    def data_of(self, label: str) -> str | None:
        for row in self.keyboard:
            for button in row:
                if button.get("text") == label:
                    return str(button.get("callback_data", ""))
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "from_bot": self.from_bot,
            "text": self.text,
            "buttons": self.keyboard,
        }


class ApiError(Exception):
    """A Bot API refusal: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description

    def body(self) -> dict[str, Any]:
        """The answer's JSON body, as Telegram words it."""
        return {"ok": False, "error_code": self.code, "description": self.description}


@dataclass
class Chat:
    """One private chat: its visible messages and the ids it has given out."""

    id: int
    messages: dict[int, Shown] = field(default_factory=dict)
    last_id: int = 0
    toasts: list[str] = field(default_factory=list)
    """Texts of callback query answers, oldest first."""

    def new_id(self) -> int:
        """The next message id (a private chat numbers the person's and the bot's together)."""
        self.last_id += 1
        return self.last_id

    def visible(self) -> list[Shown]:
        return [self.messages[k] for k in sorted(self.messages)]

    def message(self, message_id: int) -> Shown:
        found = self.messages.get(message_id)
        if found is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        return found


@dataclass
class FakeBotApi:
    """The fake's state: chats, webhook and every call made (for tests and curiosity)."""

    webhook: str | None = None
    secret: str | None = None
    token: str | None = None
    """Only this token is accepted when set (any token otherwise)."""
    chats: dict[int, Chat] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    queries: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    pending: dict[str, int] = field(default_factory=dict)
    """Callback queries sent and not yet answered: id -> chat id."""
    answered: dict[str, str | None] = field(default_factory=dict)
    """Callback query id -> the text it was answered with (None: answered silently)."""
    bot_token: str = "1:fake"  # noqa: S105 (no secret: a placeholder)
    """The token of the last Bot API call (names the bot in updates)."""

    def chat(self, chat_id: int) -> Chat:
        return self.chats.setdefault(chat_id, Chat(chat_id))

    def bot_user(self, token: str) -> dict[str, Any]:
        head = token.split(":", 1)[0]
        return {"id": int(head) if head.isdigit() else 1, **BOT_USER}

    # --- the Bot API ----------------------------------------------------------------------------

    def respond(
        self, token: str, method: str, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        """One Bot API call as Telegram answers it: the HTTP status and the JSON body."""
        try:
            result = self.call(token, method, decode_params(params))
        except ApiError as exc:
            return exc.code, exc.body()
        return 200, {"ok": True, "result": result}

    def call(self, token: str, method: str, params: dict[str, Any]) -> Any:
        """One Bot API method; its result, or ApiError."""
        if self.token is not None and token != self.token:
            raise ApiError(401, "Unauthorized")
        self.calls.append((method, params))
        self.bot_token = token
        handler = getattr(self, "_" + _snake(method), None)
        if handler is None:
            raise ApiError(404, "Not Found: method not found")
        return handler(token, params)

    def _get_me(self, token: str, params: dict[str, Any]) -> Any:
        return self.bot_user(token)

    def _set_webhook(self, token: str, params: dict[str, Any]) -> Any:
        url = str(params.get("url") or "")
        self.webhook = url or None
        self.secret = params.get("secret_token") or None
        return True

    def _delete_webhook(self, token: str, params: dict[str, Any]) -> Any:
        self.webhook = None
        return True

    def _get_webhook_info(self, token: str, params: dict[str, Any]) -> Any:
        return {
            "url": self.webhook or "",
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }

    def _set_my_commands(self, token: str, params: dict[str, Any]) -> Any:
        return True

    def _delete_my_commands(self, token: str, params: dict[str, Any]) -> Any:
        return True

    def _log_out(self, token: str, params: dict[str, Any]) -> Any:
        return True

    def _close(self, token: str, params: dict[str, Any]) -> Any:
        return True

    def _send_message(self, token: str, params: dict[str, Any]) -> Any:
        chat = self.chat(_chat_id(params))
        text = _text(params)
        shown = Shown(chat.new_id(), text, True, _keyboard(params))
        chat.messages[shown.message_id] = shown
        return self._message(token, chat.id, shown)

    def _edit_message_text(self, token: str, params: dict[str, Any]) -> Any:
        if "inline_message_id" in params:
            raise ApiError(400, "Bad Request: inline messages are not supported by this fake")
        chat = self.chat(_chat_id(params))
        old = chat.message(_int(params, "message_id"))
        if not old.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        new = Shown(old.message_id, _text(params), True, _keyboard(params))
        if (new.text, new.keyboard) == (old.text, old.keyboard):
            raise ApiError(400, "Bad Request: message is not modified")
        chat.messages[new.message_id] = new
        return self._message(token, chat.id, new)

    def _delete_message(self, token: str, params: dict[str, Any]) -> Any:
        chat = self.chat(_chat_id(params))
        if chat.messages.pop(_int(params, "message_id"), None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    def _delete_messages(self, token: str, params: dict[str, Any]) -> Any:
        chat = self.chat(_chat_id(params))
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise ApiError(400, "Bad Request: message_ids must hold 1 to 100 ids")
        for message_id in ids:
            chat.messages.pop(int(message_id), None)
        return True

    def _answer_callback_query(self, token: str, params: dict[str, Any]) -> Any:
        query = str(params.get("callback_query_id") or "")
        chat_id = self.pending.pop(query, None)
        if chat_id is None:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired")
        text = str(params.get("text") or "") or None
        self.answered[query] = text
        if text:
            self.chat(chat_id).toasts.append(text)
        return True

    def _message(self, token: str, chat_id: int, shown: Shown) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": shown.message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Test"},
            "from": self.bot_user(token) if shown.from_bot else _person(chat_id, None),
            "text": shown.text,
        }
        if shown.keyboard:
            message["reply_markup"] = {"inline_keyboard": shown.keyboard}
        return message

    # --- the person -------------------------------------------------------------------------------

    def text_update(self, chat_id: int, text: str, language_code: str | None) -> dict[str, Any]:
        """The person sends ``text``: shown in the chat, and the update Telegram would post."""
        chat = self.chat(chat_id)
        shown = Shown(chat.new_id(), text, False)
        chat.messages[shown.message_id] = shown
        message: dict[str, Any] = {
            "message_id": shown.message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Test"},
            "from": _person(chat_id, language_code),
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return {"update_id": next(self.update_ids), "message": message}

    def tap_update(
        self,
        chat_id: int,
        label: str,
        language_code: str | None,
        message_id: int | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """The person taps a button: the callback query's id and the update Telegram would post."""
        chat = self.chat(chat_id)
        if message_id is None:
            with_buttons = [m for m in chat.visible() if m.keyboard]
            if not with_buttons:
                raise ApiError(404, "no message with buttons in this chat")
            on = with_buttons[-1]
        else:
            on = chat.messages.get(message_id) or _missing(message_id)
        data = on.data_of(label)
        if data is None:
            raise ApiError(404, f"no button {label!r}; buttons: {on.labels()}")
        query = f"q{next(self.queries)}"
        self.pending[query] = chat_id
        update = {
            "update_id": next(self.update_ids),
            "callback_query": {
                "id": query,
                "from": _person(chat_id, language_code),
                "chat_instance": f"ci{chat_id}",
                "data": data,
                "message": self._message(self.bot_token, chat_id, on),
            },
        }
        return query, update


def _missing(message_id: int) -> Shown:
    raise ApiError(404, f"no message {message_id} in this chat")


def _snake(method: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in method)


def _person(user_id: int, language_code: str | None) -> dict[str, Any]:
    found: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Test"}
    if language_code:
        found["language_code"] = language_code
    return found


def _int(params: Mapping[str, Any], name: str) -> int:
    try:
        return int(params[name])
    except (KeyError, TypeError, ValueError):
        raise ApiError(400, f"Bad Request: {name} is missing or not a number") from None


def _chat_id(params: Mapping[str, Any]) -> int:
    return _int(params, "chat_id")


def _text(params: Mapping[str, Any]) -> str:
    text = str(params.get("text") or "")
    if not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if len(text) > 4096:
        raise ApiError(400, "Bad Request: message is too long")
    return text


def _keyboard(params: Mapping[str, Any]) -> list[list[dict[str, Any]]]:
    markup = params.get("reply_markup") or {}
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    keyboard: list[list[dict[str, Any]]] = []
    for row in rows:
        buttons = []
        for button in row:
            data = str(button.get("callback_data", ""))
            if not 1 <= len(data.encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            buttons.append({"text": str(button.get("text", "")), "callback_data": data})
        keyboard.append(buttons)
    return keyboard


async def _params(request: Request) -> dict[str, Any]:
    """Parameters from the query string, then a JSON or form body (JSON text decoded)."""
    params: dict[str, Any] = dict(request.query_params)
    kind = request.headers.get("content-type", "")
    if "application/json" in kind:
        body = await request.body()
        data = json.loads(body) if body.strip() else {}
        if isinstance(data, dict):
            params.update(data)
    elif "form" in kind:
        form = await request.form()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return decode_params(params)


def decode_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters with those sent as JSON text (in form bodies) decoded."""
    decoded = dict(params)
    for name in JSON_PARAMS:
        value = decoded.get(name)
        if isinstance(value, str):
            try:
                decoded[name] = json.loads(value)
            except ValueError:
                raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from None
    return decoded


def _error(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.code)


def create_fake(
    webhook: str | None = None, secret: str | None = None, token: str | None = None
) -> FastAPI:
    """The fake Bot API app; its state is ``app.state.fake`` (a ``FakeBotApi``)."""
    fake = FakeBotApi(webhook=webhook, secret=secret, token=token)
    app = FastAPI(title="Fake Telegram Bot API", docs_url=None, redoc_url=None)
    app.state.fake = fake

    @app.api_route("/bot{token}/{method}", methods=["GET", "POST"])
    async def bot_api(token: str, method: str, request: Request) -> JSONResponse:
        try:
            params = await _params(request)
        except ApiError as exc:
            return _error(exc)
        status, body = fake.respond(token, method, params)
        return JSONResponse(body, status_code=status)

    async def deliver(chat_id: int, update: dict[str, Any]) -> dict[str, Any]:
        if not fake.webhook:
            raise ApiError(409, "no webhook set (start with --webhook, or call setWebhook)")
        headers = {SECRET_HEADER: fake.secret} if fake.secret else {}
        async with httpx.AsyncClient(timeout=60, trust_env=False) as client:
            try:
                answer = await client.post(fake.webhook, json=update, headers=headers)
            except httpx.HTTPError as exc:
                raise ApiError(502, f"webhook unreachable: {type(exc).__name__}") from None
        return {
            "update_id": update["update_id"],
            "webhook_status": answer.status_code,
            "messages": [m.to_dict() for m in fake.chat(chat_id).visible()],
        }

    async def body_of(request: Request) -> dict[str, Any]:
        try:
            data = await _params(request)
        except ValueError:
            raise ApiError(400, "the body must be JSON") from None
        return data

    @app.post("/_user/{chat_id}/text")
    async def user_text(chat_id: int, request: Request) -> JSONResponse:
        try:
            body = await body_of(request)
            text = str(body.get("text") or "")
            if not text:
                raise ApiError(400, "text is required")
            update = fake.text_update(chat_id, text, body.get("language_code"))
            return JSONResponse(await deliver(chat_id, update))
        except ApiError as exc:
            return _error(exc)

    @app.post("/_user/{chat_id}/tap")
    async def user_tap(chat_id: int, request: Request) -> JSONResponse:
        try:
            body = await body_of(request)
            label = str(body.get("label") or "")
            on = body.get("message_id")
            if on is not None and not str(on).isdigit():
                raise ApiError(400, "message_id must be a number")
            query, update = fake.tap_update(
                chat_id, label, body.get("language_code"), None if on is None else int(on)
            )
            delivered = await deliver(chat_id, update)
            delivered["answered"] = query in fake.answered
            delivered["toast"] = fake.answered.get(query)
            return JSONResponse(delivered)
        except ApiError as exc:
            return _error(exc)

    @app.get("/_user/{chat_id}/messages")
    async def user_messages(chat_id: int) -> JSONResponse:
        chat = fake.chat(chat_id)
        return JSONResponse(
            {"messages": [m.to_dict() for m in chat.visible()], "toasts": chat.toasts}
        )

    @app.get("/_calls")
    async def calls() -> JSONResponse:
        """Every Bot API call so far (method and parameters), oldest first."""
        return JSONResponse([{"method": m, "params": p} for m, p in fake.calls])

    return app
