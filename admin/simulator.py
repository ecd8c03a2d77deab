"""A browser simulator of USSD, SMS and Telegram screens over the same conversation service.

``POST /simulator/api`` with ``{"session": "a1b2...", "channel": "ussd", "lang": "fr",
"input": "2"}`` (``input`` null starts over) answers ``{"text": "CON ...", "end": false, ...}``.
A walk here saves nothing: a report or call back shows a sample reference, as in
``hotline simulate``, and never reaches the on-call queue.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from admin.deps import MaybeSignedIn
from admin.render import render
from bot.conversation.simulate import step
from bot.core.languages import Language
from bot.deps import ContentDep, ConversationsDep

router = APIRouter(prefix="/simulator", tags=["simulator"])
STATIC = Path(__file__).parent / "static"
ASSETS = {"simulator.js": "text/javascript", "simulator.css": "text/css"}
"""The page's script and style, served from here: the Content-Security-Policy allows no
inline script or style."""
SESSION = re.compile(r"^[a-zA-Z0-9_-]{8,64}$")


class SimulatorInput(BaseModel):
    """One input typed in the simulator."""

    session: str = Field(pattern=SESSION.pattern)
    channel: Literal["ussd", "sms", "telegram"] = "ussd"
    lang: Language = "en"
    input: str | None = Field(default=None, max_length=500)


class SimulatorScreen(BaseModel):
    """What the simulated phone shows."""

    text: str
    end: bool
    page: int
    pages: int
    buttons: list[str]


@router.get("", response_class=HTMLResponse)
def page(request: Request, me: MaybeSignedIn) -> HTMLResponse:
    """The simulator page, in the language of who opens it."""
    return render(request, "simulator.html")


@router.get("/static/{name}")
async def asset(name: str) -> Response:
    """The page's script or style (nothing else is served from the folder)."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(status_code=404, detail="not found")
    return Response((STATIC / name).read_bytes(), media_type=media_type)


@router.post("/api")
async def simulate(
    body: SimulatorInput, content: ContentDep, conversations: ConversationsDep
) -> SimulatorScreen:
    """Start or continue a simulated conversation."""
    simulated = await step(
        conversations,
        content.tr,
        channel=body.channel,
        key=f"sim:{body.channel}:{body.session}",
        lang=body.lang,
        text=body.input,
    )
    screen = simulated.screen
    return SimulatorScreen(
        text=simulated.shown,
        end=screen.end,
        page=screen.page,
        pages=screen.pages,
        buttons=[f"{b.key}|{b.label}" for b in screen.buttons],
    )
