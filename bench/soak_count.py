"""What ``bench.soak`` counts after the run: the database against what people were shown and
what the stub sent, requests and latencies, and ``/metrics`` labels checked for personal data."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import Counter, defaultdict

import httpx
from sqlmodel import Session, col, select

from bench.at_stub import AtStub
from bench.soak_people import ATTEMPTS, PERSONAL, REFERENCE, Tally
from bench.topology import Topology
from bot.core.clock import utcnow
from bot.core.db import make_engine
from bot.core.privacy import pseudonym
from bot.models import Case, Escalation, Operator, OutboundMessage
from bot.outbox.queue import BODY

SETTLE_SECONDS = 150.0
"""Longest wait for the outbox and escalations to settle (a killed worker's lease is 60 s)."""


async def scrape(topology: Topology, tally: Tally, until: float) -> None:
    """``/metrics`` of every app and worker every 5 s during the run (with the token); every
    label value checked for personal data."""
    headers = {"Authorization": f"Bearer {topology.metrics_token}"}
    async with httpx.AsyncClient(timeout=5, trust_env=False, headers=headers) as client:
        while time.monotonic() < until:
            for process in (*topology.app_procs, *topology.worker_procs):
                if process.metrics_url is None:
                    continue
                with contextlib.suppress(httpx.HTTPError):
                    answer = await client.get(process.metrics_url)
                    tally.scrape_status[f"{process.name[:-1]} {answer.status_code}"] += 1
                    if answer.status_code == 200:
                        tally.scrapes += 1
                        check_metrics(answer.text, tally)
            await asyncio.sleep(5)


LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


SUFFIXES = re.compile(r"_(bucket|count|sum|total|created|info)$")


def metrics_lines(tally: Tally, topology: Topology) -> list[str]:
    """The scrapes, the hotline's series by name, and the labels that carried personal data."""
    names = sorted({SUFFIXES.sub("", n) for n in tally.metrics_series if n.startswith("hotline")})
    bad = personal_labels(tally, topology)
    lines = [
        f"metrics: {tally.scrapes} scrapes with the token ({_pairs(tally.scrape_status)});"
        f" {len(tally.metrics_series)} series names, {len(tally.labels)} distinct labels;"
        f" labels with personal data: {len(bad)}" + (f" {bad[:5]}" if bad else "")
    ]
    for start in range(0, len(names), 4):
        lines.append("  " + ", ".join(names[start : start + 4]))
    return lines


def check_metrics(text: str, tally: Tally) -> None:
    """Series names seen, and any label value that looks like a number, reference or id."""
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name = re.split(r"[{ ]", line, maxsplit=1)[0]
        tally.metrics_series.add(name)
        for label, value in LABEL.findall(line):
            tally.labels.add((name, label, value))


def personal_labels(tally: Tally, topology: Topology) -> list[str]:
    """Label values holding a number, chat id, pseudonym, reference or token of this run, or
    anything shaped like one (``le`` bounds aside)."""
    exact = {
        *tally.sensitive,
        *tally.shown,
        topology.callback_token,
        topology.webhook_secret,
        topology.metrics_token,
    }
    found = []
    for name, label, value in sorted(tally.labels):
        if label == "le":
            continue
        if PERSONAL.search(value) or any(s in value for s in exact):
            found.append(f"{name}{{{label}={value!r}}}")
    return found


def settle(topology: Topology, timeout: float) -> float:
    """Wait until nothing due is left in the outbox or the escalations; returns the seconds."""
    engine = make_engine(topology.database_url)
    began = time.monotonic()
    try:
        while time.monotonic() - began < timeout:
            now = utcnow()
            with Session(engine) as session:
                due = session.exec(
                    select(OutboundMessage.id).where(
                        col(OutboundMessage.status).in_(("pending", "sending")),
                        col(OutboundMessage.next_attempt_at) <= now,
                    )
                ).first()
                steps = session.exec(
                    select(Escalation.id).where(
                        col(Escalation.done).is_(False), col(Escalation.due_at) <= now
                    )
                ).first()
            if due is None and steps is None:
                break
            time.sleep(1)
    finally:
        engine.dispose()
    return time.monotonic() - began


async def telegram_shown(topology: Topology, tally: Tally) -> Counter[str]:
    """References in what the fake Bot API was asked to send; the Bot API calls by method."""
    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
        calls = (await client.get(f"{topology.fake_url}/_calls")).json()
    methods: Counter[str] = Counter()
    chats: dict[str, list[str]] = defaultdict(list)
    for call in calls:
        methods[call["method"]] += 1
        text = str(call["params"].get("text", ""))
        chat = str(call["params"].get("chat_id", ""))
        chats[chat].append(f"{call['method']}: {text[:60]!r}")
        if call["method"] in ("sendMessage", "editMessageText") and (
            found := REFERENCE.search(text)
        ):
            tally.shown.setdefault(found.group(), "telegram")
            tally.traces[found.group()] = chats[chat]
    return methods


def count(topology: Topology, tally: Tally) -> list[str]:
    """The database against what was shown and sent; the report's lines."""
    lines: list[str] = []
    cipher = topology.cipher
    engine = make_engine(topology.database_url)
    try:
        with Session(engine) as session:
            cases = session.exec(select(Case)).all()
            outbox = session.exec(select(OutboundMessage)).all()
            escalations = session.exec(select(Escalation)).all()
            operators = session.exec(select(Operator)).all()
    finally:
        engine.dispose()
    phones = {
        cipher.decrypt(op.phone, "operator.phone"): f"op_{op.id}" for op in operators if op.phone
    }
    for sms in AtStub.sent:
        if REFERENCE.search(sms.text) and sms.to not in phones:
            tally.shown.setdefault(REFERENCE.search(sms.text).group(), "sms")  # type: ignore[union-attr]

    stored = {case.reference: case for case in cases}
    per_contact = Counter(case.contact for case in cases if case.contact in tally.contacts)
    shown = set(tally.shown)
    lost = sorted(shown - set(stored))
    by_channel = Counter(case.channel for case in cases)
    lines.append(
        f"cases: {len(cases)} stored ({_pairs(by_channel)});"
        f" Send pressed {sum(tally.sends.values())} times"
        f" ({_pairs(tally.sends)})"
    )
    lines.append(
        f"references shown {len(shown)}"
        f" ({', '.join(f'{k} {v}' for k, v in sorted(Counter(tally.shown.values()).items()))}),"
        f" all stored: {'yes' if not lost else 'NO'}; shown but not stored (acknowledged and"
        f" lost): {len(lost)}{' ' + ', '.join(lost[:5]) if lost else ''};"
        f" stored but never shown: {len(set(stored) - shown)}"
    )
    for reference in lost:  # what that chat was sent, in order (Telegram only)
        for step in tally.traces.get(reference, [f"{tally.shown[reference]}: no trace"]):
            lines.append(f"    {reference} chat: {step}")
    duplicates = sum(n - 1 for n in per_contact.values() if n > 1)
    lines.append(
        f"duplicate cases (a person with two cases from one session): {duplicates};"
        f" cases of no soak person: {sum(1 for c in cases if c.contact not in tally.contacts)}"
    )

    # outbox against the stub, by (recipient pseudonym, text)
    stub_sends: Counter[tuple[str, str]] = Counter()
    for sms in AtStub.sent:
        who = phones.get(sms.to) or pseudonym(topology.pseudonym_key, "phone", sms.to)
        stub_sends[(who, sms.text)] += 1
    rows: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    purpose_of: dict[tuple[str, str], str] = {}
    statuses: Counter[str] = Counter()
    for message in outbox:
        statuses[f"{message.channel}/{message.purpose}/{message.status}"] += 1
        if message.channel != "sms":
            continue
        key = (message.contact, cipher.decrypt(message.body, BODY))
        rows[key][message.status] += 1
        purpose_of[key] = message.purpose
    outcome: dict[str, Counter[str]] = defaultdict(Counter)
    for key in set(rows) | set(stub_sends):
        purpose = purpose_of.get(key, "unmatched")
        got = rows.get(key, Counter())
        taken = got["sent"] + got["delivered"]
        unknown = got["unknown"]
        sends = stub_sends.get(key, 0)
        outcome[purpose]["sent once"] += min(sends, taken + unknown)
        outcome[purpose]["sent twice or more"] += max(0, sends - taken - unknown)
        outcome[purpose]["lost (marked sent, never sent)"] += max(0, taken - sends)
        outcome[purpose]["unknown"] += unknown
        outcome[purpose]["pending or failed"] += got["pending"] + got["sending"] + got["failed"]
    for purpose, counts in sorted(outcome.items()):
        lines.append(f"outbox sms/{purpose}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    lines.append(
        "outbox rows by channel/purpose/status: "
        + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
    )
    alerts = [m for m in outbox if m.purpose == "alert"]
    waiting = [m for m in alerts if m.status in ("pending", "sending")]
    lines.append(
        f"alerts: {len(alerts)} queued, "
        f"{sum(1 for m in alerts if m.status in ('sent', 'delivered'))} delivered, "
        f"{len(waiting)} not yet (of which due now:"
        f" {sum(1 for m in waiting if m.next_attempt_at <= utcnow())})"
    )
    now = utcnow()
    lines.append(
        f"escalations: {len(escalations)} steps, {sum(1 for e in escalations if e.level > 0)} done"
        f" past the primary (backup {sum(1 for e in escalations if e.level == 1)}, supervisor"
        f" {sum(1 for e in escalations if e.level == 2)}); due and not done:"
        f" {sum(1 for e in escalations if not e.done and e.due_at <= now)}"
    )
    return lines


def requests_lines(tally: Tally) -> list[str]:
    lines = []
    everything: list[float] = []
    for channel in ("ussd", "sms", "telegram"):
        times = sorted(tally.latencies[channel])
        everything += times
        status = tally.status[channel]
        lines.append(
            f"{channel:8s} answered {len(times):6d}  2xx {status['2xx']:6d}  4xx {status['4xx']:4d}"
            f"  5xx {status['5xx']:4d} ({_codes(status)})"
            f"  connection errors {status['connection error']:4d}"
            f"  p50 {pct(times, 0.5):7.1f} ms  p99 {pct(times, 0.99):7.1f} ms"
            f"  abandoned after {ATTEMPTS} tries {tally.abandoned[channel]}"
        )
    everything.sort()
    lines.append(
        f"all      answered {len(everything):6d}  p50 {pct(everything, 0.5):.1f} ms"
        f"  p99 {pct(everything, 0.99):.1f} ms  max {pct(everything, 1.0):.1f} ms"
    )
    return lines


def _pairs(counts: Counter[str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def _codes(status: Counter[str]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(status.items()) if k.isdigit()) or "-"


def pct(ordered: list[float], p: float) -> float:
    if not ordered:
        return 0.0
    return 1000 * ordered[min(len(ordered) - 1, int(p * len(ordered)))]
