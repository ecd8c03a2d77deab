"""Dry runs of the conversation service: terminal and browser simulators, the editor preview.

Each screen is shown exactly as its channel would, with its measurements; events save nothing
(a report shows a sample reference), so a simulated call back never reaches the on-call queue.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO

from bot.channels.renderers import describe, renderer
from bot.conversation.dryrun import DryRunSink
from bot.conversation.ports import Renderer, Screen
from bot.conversation.service import Conversations
from bot.i18n.translate import Translate

SESSION_KEY = "console:simulator"


def _prompted(stdin: TextIO, out: TextIO) -> Iterator[str]:
    while True:
        out.write("> ")
        out.flush()
        got = stdin.readline()
        if not got:
            return
        yield got.rstrip("\n")


async def simulate(
    conversations: Conversations,
    renderer: Renderer,
    *,
    lang: str,
    flow: str,
    inputs: Iterable[str] | None,
    stdin: TextIO,
    out: TextIO,
) -> int:
    """Run one conversation from scripted ``inputs`` (echoed) or interactively."""
    screen = await conversations.start(SESSION_KEY, renderer, lang, flow=flow)
    out.write(describe(renderer.name, screen) + "\n")
    shown = 1
    source = iter(inputs) if inputs is not None else _prompted(stdin, out)
    while not screen.end:  # check before reading, so no prompt follows the last screen
        raw = next(source, None)
        if raw is None:
            break
        if inputs is not None:
            out.write(f"> {raw}\n")
        screen = await conversations.reply(SESSION_KEY, raw, renderer, lang)
        out.write(describe(renderer.name, screen) + "\n")
        shown += 1
    if screen.end:
        out.write("(conversation ended)\n")
    return shown


def dry_run(conversations: Conversations, tr: Translate) -> Conversations:
    """The same conversations (sessions, timeouts, values) with events that save nothing."""
    simulated = copy.copy(conversations)
    simulated.sink = DryRunSink(tr)
    return simulated


@dataclass(frozen=True)
class Simulated:
    """A simulated screen: the screen, and its text as the channel shows it with its size."""

    screen: Screen
    shown: str


async def step(
    conversations: Conversations,
    tr: Translate,
    *,
    channel: str,
    key: str,
    lang: str,
    text: str | None,
) -> Simulated:
    """Start (``text`` None) or continue a dry-run conversation on ``channel``."""
    simulated = dry_run(conversations, tr)
    shown_on = renderer(channel, tr)
    if text is None:
        screen = await simulated.start(key, shown_on, lang)
    else:
        screen = await simulated.reply(key, text, shown_on, lang)
    return Simulated(screen, describe(channel, screen))
