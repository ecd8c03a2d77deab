"""Migrant ambassadors on the Telegram bot: invites, /report, /reports, /services, locations.

``install`` adds to a ``TelegramBot``:

- ``/start CODE``: redeem an invite (``bot.cases.ambassadors``), register the person by the
  pseudonym of their Telegram user, welcome them and show the ambassador menu. A code that is
  unknown, used or expired gets a kind refusal and the normal menu; nothing is stored.
- a plain ``/start`` opens the ambassador menu for a registered ambassador.
- ``/report``: the ambassador report (flow ``ambassador``), for registered ambassadors only.
- ``/reports``: the ambassador's own reports by reference, date and neutral status.
- ``/services [AREA]``: active services of the directory for an area (a code or a name) or any
  place above it; without AREA, the ambassador's own area. Public information only.
- a shared location while the report asks for one: placed in the nearest known area
  (``AreaTree.nearest``) and answered with that area's code. The coordinates are dropped at
  once: never stored, never logged.
"""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from bot.cases import ambassadors
from bot.channels.telegram.bot import Chat, TelegramBot
from bot.channels.telegram.render import language_of
from bot.core.settings import Settings
from bot.directory.search import find, split_list
from bot.engine.areas import AreaTree
from bot.engine.runner import BACK_KEY
from bot.engine.state import fill
from bot.i18n import ui
from bot.models import Service

log = logging.getLogger(__name__)

FLOW = "ambassador"
MENU = (FLOW, None)
REPORT = (FLOW, "what")
LOCATION_STATE = "location"
SERVICE_TYPES = {
    "shelter": ui.SERVICE_SHELTER,
    "medical": ui.SERVICE_MEDICAL,
    "psychosocial": ui.SERVICE_PSYCHOSOCIAL,
    "legal": ui.SERVICE_LEGAL,
    "police": ui.SERVICE_POLICE,
    "family_tracing": ui.SERVICE_FAMILY_TRACING,
    "return_reintegration": ui.SERVICE_RETURN,
}
MAX_SERVICES = 15


class Ambassadors:
    """The ambassador commands and hooks of one bot."""

    def __init__(self, bot: TelegramBot, engine: Engine, key: str, tree: AreaTree | None) -> None:
        self.bot = bot
        self.engine = engine
        self.key = key
        self.tree = tree

    # --- helpers ------------------------------------------------------------------------------

    def lang(self, chat: Chat) -> str:
        """The chat's language, as the bot picks it."""
        return chat.record.lang or language_of(chat.language_code) or self.bot.default_language

    def tr(self, chat: Chat, msgid: str, **values: str) -> str:
        """A UI string in the chat's language, its placeholders filled."""
        text = self.bot.content.tr(self.lang(chat), msgid)
        return fill(text, {**self.bot.conversations.values, **values})

    async def send(self, chat: Chat, text: str) -> None:
        """Send a plain message (remembered for the quick exit)."""
        sent = await self.bot.application.bot.send_message(chat.id, text)
        chat.record.remember(sent.message_id)

    def has_flow(self) -> bool:
        """True when the ambassador flow is loaded (a deployment may leave it out)."""
        return FLOW in self.bot.content.registry

    async def registered(self, chat: Chat) -> bool:
        """True when the chat's person is an active ambassador."""
        return await run_in_threadpool(ambassadors.is_ambassador, self.engine, chat.contact)

    def area_name(self, code: str) -> str:
        """A place's name as the menus show it (countries translated)."""
        if self.tree is None:
            return code
        path = self.tree.path(code)
        return path[-1].name if path else code

    # --- hooks --------------------------------------------------------------------------------

    async def start_payload(self, chat: Chat, payload: str) -> bool:
        """``/start CODE``: register with an invite, or refuse kindly and show the menu.

        A payload that is not shaped like an invite code is left to the other hooks."""
        if ambassadors.normalise_code(payload) is None:
            return False
        result = await run_in_threadpool(
            ambassadors.redeem, self.engine, self.key, payload, chat.contact
        )
        if result is ambassadors.Redeemed.REFUSED:
            await self.send(chat, self.tr(chat, ui.INVITE_REFUSED))
            return False  # the bot goes on to its menu
        message = (
            ui.AMBASSADOR_WELCOME
            if result is ambassadors.Redeemed.REGISTERED
            else (ui.AMBASSADOR_ALREADY)
        )
        await self.send(chat, self.tr(chat, message))
        if self.has_flow():
            await self.bot.begin(chat, at=MENU)
        else:
            await self.bot.begin(chat)
        return True

    async def start_menu(self, chat: Chat) -> tuple[str, str | None] | None:
        """A plain ``/start``: the ambassador menu for ambassadors."""
        if self.has_flow() and await self.registered(chat):
            return MENU
        return None

    async def on_location(self, chat: Chat, latitude: float, longitude: float) -> bool:
        """A shared location while the report asks for one: its area becomes the answer."""
        saved = await self.bot.store.get(chat.key)
        if (
            saved is None
            or saved.get("flow") != FLOW
            or saved.get("state") != LOCATION_STATE
            or self.tree is None
        ):
            return False
        place = self.tree.nearest(latitude, longitude)
        del latitude, longitude  # dropped here: only the area goes on
        if place is None:
            log.info("telegram chat %s: shared location not placed", chat.name[3:11])
            await self.send(chat, self.tr(chat, ui.LOCATION_NOT_PLACED))
            await self.bot.answer(chat, BACK_KEY)
            return True
        log.info("telegram chat %s: shared location placed", chat.name[3:11])
        await self.send(chat, self.tr(chat, ui.LOCATION_PLACED, area=place.name))
        await self.bot.answer(chat, place.code)
        return True

    # --- commands -----------------------------------------------------------------------------

    async def report(self, chat: Chat, args: list[str]) -> None:
        """``/report``: the ambassador report, for ambassadors only."""
        if not self.has_flow() or not await self.registered(chat):
            await self.send(chat, self.tr(chat, ui.AMBASSADORS_ONLY))
            await self.bot.begin(chat)
            return
        await self.bot.begin(chat, at=REPORT)

    async def reports(self, chat: Chat, args: list[str]) -> None:
        """``/reports``: the ambassador's own reports, neutral status only."""
        if not await self.registered(chat):
            await self.send(chat, self.tr(chat, ui.AMBASSADORS_ONLY))
            return
        found = await run_in_threadpool(ambassadors.reports, self.engine, chat.contact)
        if not found:
            await self.send(chat, self.tr(chat, ui.REPORTS_NONE))
            return
        lines = [self.tr(chat, ui.REPORTS_TITLE)]
        for item in found:
            status = self.tr(chat, item.status).format(reference=item.reference)
            lines.append(f"{item.created_at:%Y-%m-%d} · {status}")
        await self.send(chat, "\n".join(lines))

    async def services(self, chat: Chat, args: list[str]) -> None:
        """``/services [AREA]``: who can help in an area (public directory entries only)."""
        found = await run_in_threadpool(ambassadors.ambassador, self.engine, chat.contact)
        if found is None:
            await self.send(chat, self.tr(chat, ui.AMBASSADORS_ONLY))
            return
        wanted = " ".join(args).strip()
        if not wanted and not found.area:
            await self.send(chat, self.tr(chat, ui.SERVICES_ASK))
            return
        place = self.tree.lookup(wanted or str(found.area)) if self.tree is not None else None
        if place is None:
            await self.send(chat, self.tr(chat, ui.SERVICES_UNKNOWN_AREA))
            return
        assert self.tree is not None
        codes = [a.code for a in self.tree.path(place.code)]
        listed = await run_in_threadpool(self._services, codes)
        if not listed:
            await self.send(chat, self.tr(chat, ui.SERVICES_NONE, area=place.name))
            return
        blocks = [self.tr(chat, ui.SERVICES_TITLE, area=place.name)]
        blocks.extend(self._describe(chat, service) for service in listed[:MAX_SERVICES])
        await self.send(chat, "\n\n".join(blocks))

    def _services(self, codes: list[str]) -> list[Service]:
        """Active services for any of these areas (the place and those above it), once each."""
        seen: dict[int | None, Service] = {}
        for service in find(self.engine):
            served = {a.casefold() for a in split_list(service.areas)}
            if served & set(codes):
                seen.setdefault(service.id, service)
        return sorted(
            seen.values(), key=lambda s: (s.service_type, s.name.casefold(), s.organisation)
        )

    def _describe(self, chat: Chat, service: Service) -> str:
        kind = SERVICE_TYPES.get(service.service_type)
        lines = [f"{service.name} ({service.organisation})"]
        lines.append(self.tr(chat, kind) if kind else service.service_type)
        if service.phones:
            lines.append(self.tr(chat, ui.SERVICE_PHONES, phones=service.phones))
        if service.hours:
            lines.append(self.tr(chat, ui.SERVICE_HOURS, hours=service.hours))
        return "\n".join(lines)


def install(bot: TelegramBot | None, settings: Settings, engine: Engine) -> Ambassadors | None:
    """Add the ambassador commands and hooks to the bot (nothing when the bot is off)."""
    if bot is None:
        return None
    key = settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else ""
    # The places the content was loaded with; without any, /services and shared locations
    # say they cannot place them.
    added = Ambassadors(bot, engine, key, bot.content.areas)
    bot.start_payloads.append(added.start_payload)
    bot.start_menus.append(added.start_menu)
    bot.location_handlers.append(added.on_location)
    bot.command("report", added.report)
    bot.command("reports", added.reports)
    bot.command("services", added.services)
    return added
