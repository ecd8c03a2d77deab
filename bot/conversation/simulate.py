"""The terminal simulator: shows each screen exactly as its channel would, with its measurements."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TextIO

from bot.channels.paging import line
from bot.conversation.ports import Renderer, Screen
from bot.conversation.service import Conversations
from bot.i18n.gsm7 import is_gsm7, sms_parts, ussd_length, ussd_limit

SESSION_KEY = "console:simulator"


def describe(channel: str, screen: Screen) -> str:
    """A screen as the channel shows it, under a header with its size."""
    text = screen.text
    if channel == "ussd":
        alphabet = "GSM-7" if is_gsm7(text) else "UCS-2"
        header = f"USSD {ussd_length(text)}/{ussd_limit(text)} {alphabet}"
        if screen.pages > 1:
            header += f", page {screen.page + 1}/{screen.pages}"
        body = ("END " if screen.end else "CON ") + text
    elif channel == "sms":
        alphabet = "GSM-7" if is_gsm7(text) else "UCS-2"
        header = f"SMS {len(text)} chars {alphabet}, {sms_parts(text)} part(s)"
        body = text
    else:
        header = f"Telegram {len(text)}/4096"
        buttons = "  ".join(f"[{line(b)}]" for b in screen.buttons)
        body = text + (f"\n{buttons}" if buttons else "")
    return f"--- {header} ---\n{body}"


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
