"""Every channel's renderer, registered by the channel name used in sessions and the simulator.

Content validation checks every screen with each renderer's ``check``; the simulator and the
editor preview show a turn exactly as each channel would.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.channels.paging import line
from bot.channels.sms.render import SmsRenderer
from bot.channels.telegram.render import TelegramRenderer
from bot.channels.ussd.render import UssdRenderer
from bot.conversation.ports import Renderer, Screen
from bot.engine.validate import ScreenCheck
from bot.i18n.gsm7 import is_gsm7, sms_parts, ussd_length, ussd_limit
from bot.i18n.translate import Translate

RENDERERS: dict[str, Callable[[Translate], Renderer]] = {
    "ussd": UssdRenderer,
    "sms": SmsRenderer,
    "telegram": TelegramRenderer,
}
"""Renderer factories by channel name."""

LABELS = {"ussd": "USSD", "sms": "SMS", "telegram": "Telegram"}
"""How validation messages name each channel."""


def renderer(channel: str, tr: Translate) -> Renderer:
    """A renderer for ``channel``; KeyError for an unknown one."""
    return RENDERERS[channel](tr)


def screen_checks(tr: Translate) -> dict[str, ScreenCheck]:
    """Each channel's check of a rendered screen, by the name used in messages."""
    return {LABELS[name]: make(tr).check for name, make in RENDERERS.items()}


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
