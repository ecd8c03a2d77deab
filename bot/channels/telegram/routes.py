"""``POST /telegram/webhook``: Telegram posts each update here as JSON, with our secret header.

Registered with ``hotline telegram set-webhook URL``. A wrong ``X-Telegram-Bot-Api-Secret-Token``
gets 403 and nothing is processed; an update Telegram sends again (same ``update_id``) is
processed once. The update is handled before the answer, so a failure can ask for a retry.
A body that is not an update, or nests deeper than any update does (``MAX_DEPTH``), gets 400.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from bot.deps import StoreDep, TelegramDep, TelegramSecret

log = logging.getLogger(__name__)
router = APIRouter(tags=["telegram"])
SEEN_TTL = 24 * 3600
"""Telegram gives up re-sending an update well within a day."""
MAX_BODY = 1_000_000
MAX_DEPTH = 32
"""Objects and arrays inside each other: a real update nests about 6 deep."""


def nesting(data: Any) -> int:
    """How deep objects and arrays nest in ``data`` (counted without recursion)."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                break
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
    return deepest


async def _update(request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(status_code=413, detail="too large")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested past Python's stack
        data = None
    if nesting(data) > MAX_DEPTH:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        log.warning("telegram webhook refused: not an update")
        raise HTTPException(status_code=400, detail="not a Telegram update")
    return data


@router.post("/telegram/webhook", dependencies=[TelegramSecret])
async def telegram_webhook(
    request: Request, telegram: TelegramDep, store: StoreDep
) -> JSONResponse:
    """One update: handled once, whatever Telegram re-sends."""
    data = await _update(request)
    seen = f"telegram-in:{data['update_id']}"
    if not await store.add_once(seen, SEEN_TTL):
        log.info("telegram update sent again; ignored")
        return JSONResponse({"status": "duplicate"})
    try:
        await telegram.process(data)
    except Exception as exc:
        # Not processed (the bot could not reach Telegram to start): let Telegram send it again.
        log.error("telegram update not processed (%s); Telegram will retry", type(exc).__name__)
        await store.forget(seen)
        return JSONResponse({"status": "retry"}, status_code=503)
    return JSONResponse({"status": "ok"})
