"""Golden transcripts: the exact screens a person sees, per flow x language x channel.

A transcript is the simulator's output for a scripted path. When a flow or a translation
changes on purpose, regenerate and review the diff like any other change:

    HOTLINE_UPDATE_GOLDEN=1 .venv/bin/pytest tests/flows/test_transcripts.py
    git diff tests/flows/transcripts/
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from bot.channels.sms.render import SmsRenderer
from bot.channels.telegram.render import TelegramRenderer
from bot.channels.ussd.render import UssdRenderer
from bot.content.files import Content
from bot.conversation.dryrun import DryRunSink
from bot.conversation.ports import Renderer
from bot.conversation.service import Conversations
from bot.conversation.simulate import simulate
from bot.sessions import MemorySessionStore

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent / "transcripts"
LANG_KEYS = {"en": "1", "fr": "2", "ln": "3", "st": "4"}
DEMO_NUMBER = "0800 000 000"
DEMO_NAME = "Helpline"

# (flow, name): inputs after choosing the language, a typical path with a mistake and a step back.
# Every conversation starts at the language menu, as it does on a phone.
PATHS = {
    ("help", "call-back"): ["7", "00", "{lang}", "4", "1", "3", "1"],
    ("tip", "typical"): [
        "1",  # Report something
        "1",  # Forced work
        "1",  # DR Congo
        "13",  # Kwilu
        "1",  # Kikwit
        "2",  # 2 to 5 people
        "00",  # back: the count was wrong
        "3",  # 6 to 20 people
        "1",  # children: yes
        "2",  # danger now: no
        "1",  # add a description: yes
        "Men carry heavy bags at night",
        "2",  # contact me: no
        "1",  # send
    ],
    ("tip", "lesotho-cancelled"): ["1", "4", "3", "5", "5", "3", "3", "2", "2", "2"],
    ("screening", "high"): [
        "2",  # Check my situation
        "1",  # safe to answer: yes
        *("2", "2", "2"),  # U1-U3: no
        *("1", "3", "1"),  # Q1 yes, Q2 skip, Q3 yes
        *("2",) * 7,  # Q4-Q10: no
        "1",  # contact me: yes
        "3",  # evening
        "1",  # phone call
    ],
    ("screening", "urgent"): ["2", "1", "1", "2", "2", "2"],
    ("screening", "not-safe"): ["2", "2"],
    ("signs", "topics"): ["3", "1", "1", "4", "00", "5", "0"],
    ("follow", "typical"): ["5", "hello", "k7qm 46"],
}


@pytest.fixture(scope="module")
def content(shipped_content: Content) -> Content:
    return shipped_content


def renderer(channel: str, content: Content) -> Renderer:
    if channel == "ussd":
        return UssdRenderer(content.tr)
    if channel == "sms":
        return SmsRenderer(content.tr)
    return TelegramRenderer(content.tr)


async def transcript(content: Content, flow: str, lang: str, channel: str, path: list[str]) -> str:
    conversations = Conversations(
        content,
        MemorySessionStore(),
        DryRunSink(content.tr),
        values={"hotline_number": DEMO_NUMBER, "hotline_name": DEMO_NAME},
    )
    inputs = [LANG_KEYS[lang], *(i.replace("{lang}", LANG_KEYS[lang]) for i in path)]
    out = io.StringIO()
    await simulate(
        conversations,
        renderer(channel, content),
        lang="en",
        flow="main",
        inputs=inputs,
        stdin=io.StringIO(),
        out=out,
    )
    return out.getvalue()


@pytest.mark.parametrize("channel", ["ussd", "sms", "telegram"])
@pytest.mark.parametrize("lang", list(LANG_KEYS))
@pytest.mark.parametrize(("flow", "name"), list(PATHS))
async def test_transcript(content: Content, flow: str, name: str, lang: str, channel: str) -> None:
    got = await transcript(content, flow, lang, channel, PATHS[(flow, name)])
    golden = HERE / f"{flow}-{name}-{lang}-{channel}.txt"
    if os.environ.get("HOTLINE_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(got, encoding="utf-8")
    assert golden.exists(), f"no transcript {golden.name}; run with HOTLINE_UPDATE_GOLDEN=1"
    assert got == golden.read_text(encoding="utf-8")
    assert "(conversation ended)" in got
