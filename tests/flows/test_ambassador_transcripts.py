"""Golden transcripts of the ambassador flow on Telegram, per language.

The ambassador flow is not on the main menu (registered ambassadors reach it by ``/start`` and
``/report``), so it starts here at its own menu. Regenerate after an intended change:

    HOTLINE_UPDATE_GOLDEN=1 .venv/bin/pytest tests/flows/test_ambassador_transcripts.py
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from bot.channels.telegram.render import TelegramRenderer
from bot.content.files import Content
from bot.conversation.dryrun import DryRunSink
from bot.conversation.service import Conversations
from bot.conversation.simulate import simulate
from bot.sessions import MemorySessionStore

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent / "transcripts"
PATHS = {
    "typical": [
        "1",  # New report
        "3",  # Child labour
        "1",  # Share my location
        "nowhere",  # not a place: the hint
        "Kikwit",  # a typed place answers too (on Telegram a shared location fills it)
        "2",  # 2 to 5 people
        "00",  # back: the count was wrong
        "3",  # 6 to 20 people
        "1",  # children: yes
        "2",  # danger now: no
        "1",  # help needed: shelter
        "1",  # add a description: yes
        "Girls sell water at the market all day",
        "1",  # send
    ],
    "list-cancelled": ["1", "1", "2", "3", "5", "1", "2", "1", "4", "2", "2"],
    "reports-hint": ["2"],
}


@pytest.fixture(scope="module")
def content(shipped_content: Content) -> Content:
    return shipped_content


async def transcript(content: Content, lang: str, path: list[str]) -> str:
    conversations = Conversations(
        content,
        MemorySessionStore(),
        DryRunSink(content.tr),
        values={"hotline_number": "0800 000 000", "hotline_name": "Helpline"},
    )
    out = io.StringIO()
    await simulate(
        conversations,
        TelegramRenderer(content.tr),
        lang=lang,
        flow="ambassador",
        inputs=path,
        stdin=io.StringIO(),
        out=out,
    )
    return out.getvalue()


@pytest.mark.parametrize("lang", ["en", "fr", "ln", "st"])
@pytest.mark.parametrize("name", list(PATHS))
async def test_ambassador_transcript(content: Content, name: str, lang: str) -> None:
    got = await transcript(content, lang, PATHS[name])
    golden = HERE / f"ambassador-{name}-{lang}-telegram.txt"
    if os.environ.get("HOTLINE_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(got, encoding="utf-8")
    assert golden.exists(), f"no transcript {golden.name}; run with HOTLINE_UPDATE_GOLDEN=1"
    assert got == golden.read_text(encoding="utf-8")
    assert "(conversation ended)" in got
