"""Turn a flow's event into a case, with its on-call alert, in one transaction.

The conversation service hands events here before the person sees a confirmation, so a
reference code is only ever shown for a case that is committed. The same event delivered twice
(its ``event_id``) creates one case. Flows describe a report through answer ids:

=================  ===========================================================
answer id          case field
=================  ===========================================================
area               area (a code from the areas data file, e.g. ``cd-kwilu-kikwit``)
exploitation       exploitation_type (forced_labour, sexual_exploitation, ...)
people             people_affected (a number, or the lower bound of a band: ``2-5`` -> 2)
age_band           age_band
minor, U3, children  minor (``yes``)
consent_contact    consent_contact (``yes``); the number is kept, encrypted, only then
                   (on Telegram the chat, or a typed ``callback_number``: ``contact.reach``)
consent_refer      consent_refer
consent_police     consent_police
safe_time          safe_time (encrypted)
description        narrative (encrypted)
=================  ===========================================================

One number cannot file reports or probe references in bursts (``Limits``): a contact files at
most ``HOTLINE_CASE_HOURLY_LIMIT`` cases an hour on every channel (past it the conversation ends
on a kind, neutral screen and nothing is kept: ``Declined``), and looks reports up at most
``HOTLINE_LOOKUP_HOURLY_LIMIT`` times an hour (past it the answer is neutral and nothing is
checked).

A case is written on the engine's request threads (``bot.core.db.threads_for``), where reports
queue; one that waited past ``HOTLINE_DB_QUEUE_WAIT`` is not started and the conversation
ends on the neutral "try again" screen (``Declined``: nothing kept), as a look-up answers later.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import bindparam, insert, literal
from sqlalchemy import select as sa_select
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, func

from bot.cases.alerts import AlertPolicy, alert_operator
from bot.cases.contact import reach
from bot.cases.lookup import LookupLimit, status_text
from bot.cases.reference import new_reference
from bot.cases.status import Status
from bot.conversation.ports import Declined
from bot.core.clock import utcnow
from bot.core.concurrency import Overloaded
from bot.core.db import threads_for
from bot.core.metrics import CASES, CHANNELS, PRIORITIES, label
from bot.core.privacy import Cipher
from bot.core.settings import Settings
from bot.engine.state import Event
from bot.i18n import ui
from bot.i18n.translate import Translate
from bot.models import Case
from bot.outbox.notify import Notifier
from bot.sessions import MemorySessionStore, SessionStore
from bot.team.oncall import on_call

log = logging.getLogger(__name__)

KINDS = {
    "tip_submitted": "tip",
    "screening_completed": "screening",
    "callback_requested": "callback_request",
    "ambassador_report": "ambassador_report",
}
EXPLOITATION = {
    "forced_labour",
    "sexual_exploitation",
    "child_labour",
    "forced_marriage",
    "domestic_servitude",
    "forced_begging",
    "organ_removal",
    "other",
}
TRIAGE = {
    "P1": timedelta(minutes=10),
    "P2": timedelta(hours=24),
    "P3": timedelta(hours=72),
    "P4": timedelta(days=7),
}
"""Time to acknowledge (P1) or triage (P2-P4) before the case is escalated."""


_SQLITE_WRITES = threading.Lock()
"""SQLite: one case transaction at a time in this process (its count and its insert together)."""


@dataclass(frozen=True)
class Limits:
    """What one contact may do per hour (0: no limit), and how alerts are tamed."""

    cases_per_hour: int = 5
    lookups_per_hour: int = 10
    alerts: AlertPolicy = field(default_factory=AlertPolicy)

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The limits the settings ask for."""
        return cls(
            cases_per_hour=max(0, settings.case_hourly_limit),
            lookups_per_hour=max(0, settings.lookup_hourly_limit),
            alerts=AlertPolicy.from_settings(settings),
        )


class OverLimit(Exception):
    """The contact filed as many cases as the last hour allows: nothing was written."""


def _yes(answers: dict[str, str], *names: str) -> bool:
    return any(answers.get(name) == "yes" for name in names)


def _number(value: str | None) -> int | None:
    """A count, or the lower bound of a band such as ``2-5`` or ``21+`` (at least that many)."""
    digits = re.match(r"^\d+", value or "")
    return int(digits.group()) if digits else None


@dataclass(frozen=True)
class Intake:
    """A case's fields read from an event (pure)."""

    kind: str
    priority: str
    rule: str | None
    area: str | None
    exploitation_type: str | None
    people_affected: int | None
    age_band: str | None
    minor: bool | None
    consent_contact: bool
    consent_refer: bool
    consent_police: bool
    safe_time: str | None
    narrative: str | None
    answers: dict[str, str]


def read_event(event: Event) -> Intake:
    """What a case needs from an event's answers, by the conventions above."""
    answers = {str(k): str(v) for k, v in dict(event.payload.get("answers") or {}).items()}
    exploitation = answers.get("exploitation")
    minor_known = any(name in answers for name in ("minor", "U3", "children"))
    return Intake(
        kind=KINDS.get(event.name, event.name)[:24],
        priority=str(event.payload.get("priority") or "P4"),
        rule=(str(event.payload["rule"])[:200] if event.payload.get("rule") else None),
        area=answers.get("area"),
        exploitation_type=exploitation if exploitation in EXPLOITATION else None,
        people_affected=_number(answers.get("people")),
        age_band=answers.get("age_band"),
        minor=_yes(answers, "minor", "U3", "children") if minor_known else None,
        consent_contact=_yes(answers, "consent_contact"),
        consent_refer=_yes(answers, "consent_refer"),
        consent_police=_yes(answers, "consent_police"),
        safe_time=answers.get("safe_time") or None,
        narrative=answers.get("description") or None,
        answers={
            k: v
            for k, v in answers.items()
            if k not in ("description", "safe_time", "callback_number")
        },
    )


_SAME = col(Case.event_key) == bindparam("key")
_RECENT = (
    sa_select(func.count())
    .select_from(Case)
    .where(col(Case.contact) == bindparam("contact"), col(Case.created_at) > bindparam("since"))
    .scalar_subquery()
)
_EXISTING = (
    sa_select(col(Case.id)).where(_SAME).scalar_subquery(),
    sa_select(col(Case.reference)).where(_SAME).scalar_subquery(),
)
_LOOK = sa_select(*_EXISTING, _RECENT)
"""The event's case, if it made one already, and the contact's cases of the last hour."""
_LOOK_NO_LIMIT = sa_select(*_EXISTING, literal(0))
_INSERT_CASE = insert(SQLModel.metadata.tables["cases"])
_INSERT_EVENT = insert(SQLModel.metadata.tables["case_events"])


@dataclass(frozen=True)
class Made:
    """A case just written: what the metrics and the log say of it."""

    id: int
    reference: str
    kind: str
    priority: str


class CasesSink:
    """The conversation service's event sink: cases, alerts and the reference to show."""

    def __init__(
        self,
        engine: Engine,
        cipher: Cipher,
        tr: Translate,
        notifier: Callable[[], Notifier],
        *,
        clock: Callable[[], datetime] = utcnow,
        limits: Limits | None = None,
        store: SessionStore | None = None,
    ) -> None:
        """``store`` counts look-ups per contact (the app's session store, shared by every
        process on Redis); without one they are counted in this process."""
        self.engine = engine
        self.threads = threads_for(engine)  # a person waits: a bounded queue, shed when long
        self.cipher = cipher
        self.tr = tr
        self.notifier = notifier
        self.clock = clock
        self.limits = limits or Limits()
        self.lookups = LookupLimit(
            store or MemorySessionStore(), self.limits.lookups_per_hour, clock=clock
        )

    async def handle(
        self,
        events: Sequence[Event],
        *,
        channel: str,
        contact: str,
        address: str | None = None,
    ) -> dict[str, str]:
        """Commit a case per event (and its alerts); returns the reference to show.

        Raises ``Declined`` (nothing written) when the contact filed too many cases lately.
        """
        values: dict[str, str] = {}
        alerts: list[int] = []
        try:
            for event in events:
                if event.name == "status_requested":
                    values["status"] = await self._status(event, contact)
                    continue
                if event.name not in KINDS:
                    log.info("event %s is not a case; ignored", event.name)
                    continue
                commit = partial(
                    self.commit, event, channel=channel, contact=contact, address=address
                )
                try:
                    reference, queued = await self.threads.run(commit, shed=True)
                except Overloaded:
                    log.warning("%s case not started: the database queue is too long", channel)
                    raise Declined(ui.NOT_SAVED) from None
                except OverLimit:
                    log.warning(
                        "%s case refused: contact %s over %d cases an hour; nothing kept",
                        channel,
                        contact[:11],
                        self.limits.cases_per_hour,
                    )
                    raise Declined(ui.CASES_LIMIT) from None
                values["reference"] = reference
                alerts.extend(queued)
        finally:
            if alerts:
                await self.notifier().notify(alerts)
        return values

    async def _status(self, event: Event, contact: str) -> str:
        """A report's neutral status, or (over the contact's look-up limit) a neutral answer
        given without checking anything."""
        lang = str(event.payload.get("lang") or "en")
        if not await self.lookups.allow(contact):
            log.warning("status look-up refused: contact %s over the limit", contact[:11])
            return self.tr(lang, ui.STATUS_LATER)
        look_up = partial(
            status_text,
            self.engine,
            self.tr,
            str(dict(event.payload.get("answers") or {}).get("reference", "")),
            lang,
        )
        try:
            return await self.threads.run(look_up, shed=True)
        except Overloaded:
            log.warning("status look-up not started: the database queue is too long")
            return self.tr(lang, ui.STATUS_LATER)

    def commit(
        self, event: Event, *, channel: str, contact: str, address: str | None
    ) -> tuple[str, list[int]]:
        """Write one case and its alerts in one transaction (blocking); idempotent by event id.

        Raises ``OverLimit`` (nothing written) when the contact already filed the hour's cases;
        an event delivered again still gets its case's reference.
        """
        key = f"{channel}:{event.payload.get('event_id') or event.name}"[:160]
        for _ in range(5):
            with self._serial(), Session(self.engine) as session:
                self._lock_contact(session, contact)
                existing, recent = self._look(session, key, contact)
                if existing is not None:
                    log.info("case %s: event delivered again; nothing created", existing[0])
                    return existing[1], []
                if self.limits.cases_per_hour and recent >= self.limits.cases_per_hour:
                    raise OverLimit
                try:
                    case, alerts = self._create(session, event, key, channel, contact, address)
                    session.commit()
                except IntegrityError:  # a reference or event key taken meanwhile: look again
                    session.rollback()
                    continue
                CASES.labels(label(case.priority, PRIORITIES), label(channel, CHANNELS)).inc()
                log.info(
                    "case %s created: %s %s from %s", case.id, case.kind, case.priority, channel
                )
                return case.reference, alerts
        raise RuntimeError("could not store the case after 5 attempts")

    @contextmanager
    def _serial(self) -> Iterator[None]:
        """On SQLite, one case transaction at a time in this process (PostgreSQL: see
        ``_lock_contact``)."""
        if self.engine.dialect.name != "sqlite":
            yield
            return
        with _SQLITE_WRITES:
            yield

    def _lock_contact(self, session: Session, contact: str) -> None:
        """PostgreSQL: one case transaction per contact at a time, across processes, so the
        hour's count cannot be passed by requests racing each other."""
        if self.engine.dialect.name == "postgresql" and self.limits.cases_per_hour:
            lock = int.from_bytes(hashlib.sha256(f"case:{contact}".encode()).digest()[:8], "big")
            session.execute(
                sql_text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": lock - (1 << 63)}
            )

    def _look(self, session: Session, key: str, contact: str) -> tuple[tuple[int, str] | None, int]:
        """In one statement: the case this event already made (id, reference), and how many
        cases the contact filed in the last hour (0 when there is no hourly limit)."""
        since = self.clock() - timedelta(hours=1)
        row = (
            session.connection()
            .execute(
                _LOOK if self.limits.cases_per_hour else _LOOK_NO_LIMIT,
                {"key": key, "contact": contact, "since": since},
            )
            .one()
        )
        existing = (int(row[0]), str(row[1])) if row[0] is not None else None
        return existing, int(row[2])

    def _create(
        self,
        session: Session,
        event: Event,
        key: str,
        channel: str,
        contact: str,
        address: str | None,
    ) -> tuple[Made, list[int]]:
        now = self.clock()
        intake = read_event(event)
        encrypt = self.cipher.encrypt
        raw = {str(k): str(v) for k, v in dict(event.payload.get("answers") or {}).items()}
        way = reach(channel, address, raw) if intake.consent_contact else None
        if way is not None and way.method is not None:
            intake.answers["contact_method"] = way.method
        values: dict[str, Any] = {
            "reference": new_reference(),
            "event_key": key,
            "kind": intake.kind,
            "channel": channel,
            "lang": str(event.payload.get("lang") or "en"),
            "area": intake.area,
            "exploitation_type": intake.exploitation_type,
            "people_affected": intake.people_affected,
            "age_band": intake.age_band,
            "minor": intake.minor,
            "answers": encrypt(json.dumps(intake.answers, sort_keys=True), "case.answers"),
            "rule": intake.rule,
            "priority": intake.priority if intake.priority in TRIAGE else "P4",
            "consent_contact": intake.consent_contact,
            "consent_refer": intake.consent_refer,
            "consent_police": intake.consent_police,
            "safe_time": (
                encrypt(intake.safe_time, "case.safe_time") if intake.safe_time else None
            ),
            "contact": contact,
            "contact_phone": (
                encrypt(way.address, "case.contact_phone")
                if way is not None and way.address
                else None
            ),
            "narrative": (
                encrypt(intake.narrative, "case.narrative") if intake.narrative else None
            ),
            "status": Status.NEW,
            "due_at": now + TRIAGE.get(intake.priority, TRIAGE["P4"]),
            "created_at": now,
            "updated_at": now,
        }
        # Core statements built once, not the ORM's unit of work: a report's write runs beside
        # every caller's request (bench/case_write.py, CPU per case: PostgreSQL 3.4 -> 1.7 ms,
        # SQLite 2.1 -> 0.7 ms).
        connection = session.connection()
        inserted = connection.execute(_INSERT_CASE, values).inserted_primary_key
        assert inserted is not None
        case_id = int(inserted[0])
        connection.execute(
            _INSERT_EVENT,
            {
                "case_id": case_id,
                "at": now,
                "actor": "system",
                "kind": "created",
                "to_status": Status.NEW,
                "detail": f"{intake.kind} via {channel}",
            },
        )
        made = Made(case_id, values["reference"], intake.kind, values["priority"])
        alerts: list[int] = []
        if made.priority == "P1":
            case = Case(id=case_id, **values)  # as stored, for the alert (written already)
            team = on_call(session, now)
            alerts.extend(
                alert_operator(
                    session,
                    self.cipher,
                    self.tr,
                    case=case,
                    operator=team.primary,
                    level=0,
                    reason="new_p1",
                    now=now,
                    team=team,
                    policy=self.limits.alerts,
                )
            )
        return made, alerts
