"""The people of ``bench.soak``: USSD, SMS and Telegram sessions through the front, and what
they saw (``Tally``)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import httpx

from bench.topology import Topology
from bench.ussd_load import PATHS, TIP_PATHS, texts
from bot.core.privacy import pseudonym

REFERENCE = re.compile(r"\b(?!K7QM-46\b)[0-9A-Z]{4}-[0-9]{2}\b")
"""A case reference on a screen; not K7QM-46, the example the follow-a-report screens show."""
SERVICE_CODE = "*384*12#"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
ATTEMPTS = 4
"""Tries of one request (the first and three again), 0.5 s doubling apart."""
TELEGRAM_PATHS = tuple(TIP_PATHS[n] for n in (0, 1, 3, 5))
"""The tips without contact consent: on Telegram that asks for a typed number (no caller id)."""
PERSONAL = re.compile(
    r"(?<![0-9a-fA-F])\+?\d{7,}(?![0-9a-fA-F])|\b[0-9A-Z]{4}-[0-9]{2}\b|\b(ph|te|op)_"
)
"""What looks like a phone number or chat id (not inside a hex digest), a case reference or a
pseudonym: never in a metrics label."""


@dataclass
class Tally:
    """Everything the people saw."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    status: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    shown: dict[str, str] = field(default_factory=dict)  # reference -> channel
    contacts: dict[str, str] = field(default_factory=dict)  # pseudonym -> channel
    sends: Counter[str] = field(default_factory=Counter)  # tips that reached Send, per channel
    abandoned: Counter[str] = field(default_factory=Counter)
    sms_duplicates: int = 0
    no_reference: Counter[str] = field(default_factory=Counter)  # last screens without one
    events: list[str] = field(default_factory=list)
    scrapes: int = 0
    labels: set[tuple[str, str, str]] = field(default_factory=set)  # series, label, value
    traces: dict[str, list[str]] = field(default_factory=dict)  # reference -> its chat's calls
    sensitive: set[str] = field(default_factory=set)  # numbers, chat ids, pseudonyms, tokens
    scrape_status: Counter[str] = field(default_factory=Counter)
    metrics_series: set[str] = field(default_factory=set)


class People:
    """The lanes' client: one HTTP client to the front, the topology's secrets and counters."""

    def __init__(self, topology: Topology, tally: Tally, seed: int) -> None:
        self.t = topology
        self.tally = tally
        self.rng = random.Random(seed)
        self.client = httpx.AsyncClient(
            base_url=topology.front_url,
            timeout=15,
            trust_env=False,
            verify=False,  # noqa: S501 - the Caddy front's self-signed certificate
            limits=httpx.Limits(max_keepalive_connections=64, max_connections=128),
        )
        self.numbers = itertools.count(self.rng.randrange(10_000, 40_000))
        self.updates = itertools.count(self.rng.randrange(1_000_000, 2_000_000))
        self.sms_ids = itertools.count(1)

    def number(self, channel: str) -> str:
        """A fresh unassigned test number (+243 000 0xx xxx), remembered by pseudonym."""
        number = f"+2430000{next(self.numbers):05d}"
        name = pseudonym(self.t.pseudonym_key, "phone", number)
        self.tally.contacts[name] = channel
        self.tally.sensitive.update((number[1:], name))
        return number

    async def post(self, channel: str, url: str, **kwargs: object) -> httpx.Response | None:
        """Post with retries on a 5xx or a broken connection; None when every try failed."""
        wait = 0.5
        for attempt in range(ATTEMPTS):
            began = time.monotonic()
            try:
                answer = await self.client.post(url, **kwargs)  # type: ignore[arg-type]
            except httpx.HTTPError:
                self.tally.status[channel]["connection error"] += 1
            else:
                self.tally.latencies[channel].append(time.monotonic() - began)
                self.tally.status[channel][f"{answer.status_code // 100}xx"] += 1
                if answer.status_code >= 500:
                    self.tally.status[channel][str(answer.status_code)] += 1
                if answer.status_code < 500:
                    return answer
            if attempt < ATTEMPTS - 1:
                await asyncio.sleep(wait)
                wait *= 2
        return None

    async def ussd(self, path: tuple[str, ...], tip: bool) -> None:
        sid = f"soak-{self.rng.getrandbits(48):012x}"
        phone = self.number("ussd")
        url = f"/ussd/africastalking/{self.t.callback_token}"
        screen = ""
        for n, text in enumerate(texts(path)):
            form = {
                "sessionId": sid,
                "serviceCode": SERVICE_CODE,
                "phoneNumber": phone,
                "networkCode": "63001",
                "text": text,
            }
            if tip and n == len(path) - 1:
                self.tally.sends["ussd"] += 1
            answer = await self.post("ussd", url, data=form)
            if answer is None:
                self.tally.abandoned["ussd"] += 1
                return
            screen = answer.text
            if tip and (found := REFERENCE.search(screen)):
                self.tally.shown[found.group()] = "ussd"
            elif tip and n == len(path) - 1:
                self.tally.no_reference[f"ussd: {screen[:70]!r}"] += 1
            if screen.startswith("END"):
                break
            await asyncio.sleep(self.rng.uniform(0.2, 0.6))
        end = {
            "sessionId": sid,
            "serviceCode": SERVICE_CODE,
            "phoneNumber": phone,
            "networkCode": "63001",
            "status": "Success",
            "durationInMillis": "20000",
            "hopsCount": str(len(path)),
            "input": path[-1],
            "lastAppResponse": screen[:100],
        }
        await self.post("ussd", f"{url}/end", data=end)

    async def sms(self, path: tuple[str, ...]) -> None:
        """A keyword, then the tip's answers after the language menu, one message each."""
        phone = self.number("sms")
        url = f"/sms/africastalking/{self.t.callback_token}"
        for n, text in enumerate(("HELP", *path[2:])):
            form = {
                "from": phone,
                "to": "12345",
                "text": text,
                "id": f"soak-sms-{next(self.sms_ids)}-{self.rng.getrandbits(32):08x}",
                "date": "2026-12-06 08:00:00",
                "linkId": "",
            }
            if n == len(path) - 2:
                self.tally.sends["sms"] += 1
            answer = await self.post("sms", url, data=form)
            if answer is None:
                self.tally.abandoned["sms"] += 1
                return
            if self.rng.random() < 0.1:  # the provider delivers it again
                self.tally.sms_duplicates += 1
                await self.post("sms", url, data=form)
            await asyncio.sleep(self.rng.uniform(0.3, 0.8))

    async def telegram(self, path: tuple[str, ...]) -> None:
        """/start, then the tip's inputs typed, each update posted until it is taken."""
        chat = 700_000_000 + next(self.numbers)
        name = pseudonym(self.t.pseudonym_key, "telegram", str(chat))
        self.tally.contacts[name] = "telegram"
        self.tally.sensitive.update((str(chat), name))
        for n, text in enumerate(("/start", *path[1:])):
            message: dict[str, object] = {
                "message_id": n + 1,
                "date": int(time.time()),
                "chat": {"id": chat, "type": "private", "first_name": "Soak"},
                "from": {"id": chat, "is_bot": False, "first_name": "Soak"},
                "text": text,
            }
            if text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
            if n == len(path) - 1:
                self.tally.sends["telegram"] += 1
            answer = await self.post(
                "telegram",
                "/telegram/webhook",
                json={"update_id": next(self.updates), "message": message},
                headers={SECRET_HEADER: self.t.webhook_secret},
            )
            if answer is None:
                self.tally.abandoned["telegram"] += 1
                return
            await asyncio.sleep(self.rng.uniform(0.2, 0.6))
        shown = (await self.client.get(f"{self.t.fake_url}/_user/{chat}/messages")).json()
        last = shown["messages"][-1]["text"] if shown["messages"] else ""
        if not REFERENCE.search(last):
            self.tally.no_reference[f"telegram: {last[:70]!r}"] += 1

    async def lane(self, until: float) -> None:
        while time.monotonic() < until:
            pick = self.rng.random()
            tip = TIP_PATHS[self.rng.randrange(len(TIP_PATHS))]
            with contextlib.suppress(Exception):
                if pick < 0.35:
                    await self.ussd(tip, tip=True)
                elif pick < 0.55:
                    await self.ussd(PATHS[self.rng.randrange(len(PATHS))], tip=False)
                elif pick < 0.8:
                    await self.sms(tip)
                else:
                    await self.telegram(self.rng.choice(TELEGRAM_PATHS))
