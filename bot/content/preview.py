"""The editor's preview: a draft flow run as a basic phone (USSD), an SMS conversation or
Telegram shows it, in any language, saving nothing (events go to the dry-run sink).

The conversation runs on the content given (the published set with the draft in place,
``bot.content.versions.draft_content``) through the same service as real callers.
"""

from __future__ import annotations

from bot.channels.renderers import renderer
from bot.content.files import Content
from bot.conversation.ports import Screen
from bot.conversation.service import Conversations
from bot.conversation.simulate import dry_run

CHANNELS = ("ussd", "sms", "telegram")


async def preview(
    conversations: Conversations,
    content: Content,
    *,
    channel: str,
    key: str,
    lang: str,
    flow: str,
    text: str | None,
) -> Screen:
    """Start ``flow`` (``text`` None) or answer its screen, on ``content``, saving nothing."""
    previewing = dry_run(conversations, content.tr)
    previewing.content = content
    shown_on = renderer(channel, content.tr)
    if text is None:
        return await previewing.start(key, shown_on, lang, flow=flow)
    return await previewing.reply(key, text, shown_on, lang)
