"""A year of synthetic cases for the demo, so the statistics page has figures to show.

Added by ``hotline serve`` in a demo (``make run``), not by the demo team's seed (tests use
that). Invented from a fixed seed: about 1,500 closed cases over the 365 days before the demo
starts, with their acknowledgements, triage, escalations and referrals (to the demo directory). Busy
provinces show real counts next to hidden ones shown as "[c]". Every case is marked by its
``event_key`` (``demo-year:…``); ``hotline demo remove`` deletes them and what hangs on them.
No case holds a narrative, a contact or anything a person said.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.cases.status import CloseReason
from bot.engine.formats import REFERENCE_DIGITS, REFERENCE_LETTERS
from bot.governance import audit
from bot.models import AuditEntry, Case, CaseEvent, CaseNote, Escalation, Referral, Service

log = logging.getLogger(__name__)

REMOVED = "demo_year_removed"
"""The audit action ``hotline demo remove`` records: the demo is not re-added at the next start."""
MARK = "demo-year:"
"""The prefix of a synthetic case's ``event_key``: how the demo year is found and removed."""
PER_DAY = 4.2

AREAS = (  # (area code, language, weight): Kwilu and Kinshasa busy, some provinces rare
    ("cd-kwilu-kikwit", "fr", 30),
    ("cd-kwilu", "ln", 8),
    ("cd-kinshasa-funa", "ln", 14),
    ("cd-kinshasa-tshangu", "fr", 10),
    ("cd-kasai", "fr", 0.4),
    ("cd-ituri", "fr", 0.3),
    ("gn-conakry", "fr", 14),
    ("ls-maseru", "st", 14),
    ("ls-berea", "st", 5),
    ("ls-mokhotlong", "en", 0.5),
    (None, "fr", 3),
)
TYPES = (
    ("forced_labour", 30),
    ("sexual_exploitation", 20),
    ("child_labour", 14),
    ("domestic_servitude", 10),
    ("forced_marriage", 8),
    ("forced_begging", 5),
    ("other", 3),
    ("organ_removal", 0.3),
    (None, 6),
)
CLOSED_BECAUSE = (
    CloseReason.RESOLVED,
    CloseReason.RESOLVED,
    CloseReason.NO_CONTACT,
    CloseReason.DUPLICATE,
)
"""Why the demo's cases were closed (half resolved), from the reasons the team can pick."""
KINDS = (("tip", 50), ("screening", 30), ("ambassador_report", 15), ("callback_request", 5))
CHANNELS = {"ambassador_report": ("telegram", 1)}
PRIORITY = (("P1", 8), ("P2", 30), ("P3", 40), ("P4", 22))
ACK = {"P1": 7 * 60, "P2": 6 * 3600, "P3": 30 * 3600, "P4": 3 * 86400}
"""A typical time to acknowledge (seconds) per priority; each case draws around it."""
OUTCOMES = (
    ("done", "successful", 45),
    ("done", "not_successful", 10),
    ("accepted", None, 15),
    ("rejected", None, 10),
    ("in_progress", None, 12),
    ("revoked", None, 3),
)


def _pick(rng: random.Random, table: tuple[tuple[Any, ...], ...]) -> tuple[Any, ...]:
    return rng.choices(table, weights=[row[-1] for row in table])[0]


def _reference(rng: random.Random, taken: set[str]) -> str:
    while True:
        ref = "".join(rng.choice(REFERENCE_LETTERS) for _ in range(4))
        ref += "-" + "".join(rng.choice(REFERENCE_DIGITS) for _ in range(2))
        if ref not in taken:
            taken.add(ref)
            return ref


def present(engine: Engine) -> bool:
    """Is the demo year in the database?"""
    with Session(engine) as session:
        found = session.exec(select(Case.id).where(col(Case.event_key).startswith(MARK))).first()
    return found is not None


def removed(engine: Engine) -> bool:
    """Was the demo year removed (``hotline demo remove``)? Then a restart does not add it."""
    with Session(engine) as session:
        found = session.exec(select(AuditEntry.id).where(col(AuditEntry.action) == REMOVED)).first()
    return found is not None


def seed(engine: Engine, *, today: date, seed: int = 15, again: bool = False) -> int:
    """Add the demo year unless it is there or was removed (``again``: even if it was); the
    number of cases added."""
    if present(engine) or (removed(engine) and not again):
        return 0
    rng = random.Random(seed)  # noqa: S311 - invented figures, not secrets
    end = datetime.combine(today, time(), tzinfo=UTC)
    start = end - timedelta(days=365)
    with Session(engine) as session:
        taken = set(session.exec(select(Case.reference)).all())
        services = session.exec(
            select(Service.id, Service.service_type).where(col(Service.demo).is_(True))
        ).all()
        rows: list[dict[str, Any]] = []
        for n in range(int(365 * PER_DAY)):
            created = start + timedelta(seconds=rng.randrange(365 * 86400))
            area, lang, _ = _pick(rng, AREAS)
            kind = _pick(rng, KINDS)[0]
            channel = CHANNELS.get(kind, _pick(rng, (("ussd", 5), ("sms", 2), ("telegram", 3))))[0]
            priority = _pick(rng, PRIORITY)[0]
            ack = created + timedelta(seconds=rng.expovariate(1 / ACK[priority]) + 30)
            minor = rng.choices((True, False, None), (20, 60, 20))[0]
            rows.append(
                {
                    "reference": _reference(rng, taken),
                    "event_key": f"{MARK}{n}",
                    "kind": kind,
                    "channel": channel,
                    "lang": lang,
                    "area": area,
                    "exploitation_type": _pick(rng, TYPES)[0],
                    "minor": minor,
                    "priority": priority,
                    "status": "closed",
                    "close_reason": rng.choice(CLOSED_BECAUSE),
                    "due_at": created,
                    "acknowledged_at": ack,
                    "created_at": created,
                    "updated_at": ack,
                    "closed_at": ack + timedelta(days=rng.randint(2, 40)),
                }
            )
        session.execute(insert(Case), rows)
        ids = dict(
            session.exec(
                select(Case.event_key, Case.id).where(col(Case.event_key).startswith(MARK))
            ).all()
        )
        events: list[dict[str, Any]] = []
        escalations: list[dict[str, Any]] = []
        referrals: list[dict[str, Any]] = []
        for row in rows:
            case_id = ids[row["event_key"]]
            created, ack = row["created_at"], row["acknowledged_at"]
            triaged = ack + timedelta(seconds=rng.expovariate(1 / (ACK[row["priority"]] / 2)))
            events.append({"case_id": case_id, "at": created, "actor": "system", "kind": "created"})
            events.append(
                {
                    "case_id": case_id,
                    "at": triaged,
                    "actor": "demo.amani",
                    "kind": "status",
                    "from_status": "new",
                    "to_status": "triaged",
                }
            )
            if row["priority"] == "P1":
                level_due = created
                for level in range(3):
                    level_due = level_due + timedelta(minutes=10)
                    acked = ack <= level_due
                    escalations.append(
                        {
                            "case_id": case_id,
                            "level": level,
                            "reason": "new_p1" if level == 0 else "overdue",
                            "notified_at": level_due - timedelta(minutes=10),
                            "due_at": level_due,
                            "acknowledged_at": ack if acked else None,
                            "done": True,
                        }
                    )
                    if acked:
                        break
            if services and rng.random() < 0.3:
                service_id = rng.choice(services)[0]
                status, outcome, _ = _pick(rng, OUTCOMES)
                referrals.append(
                    {
                        "case_id": case_id,
                        "service_id": service_id,
                        "status": status,
                        "outcome": outcome,
                        "created_at": triaged,
                        "updated_at": triaged,
                    }
                )
        session.execute(insert(CaseEvent), events)
        session.execute(insert(Escalation), escalations)
        if referrals:
            session.execute(insert(Referral), referrals)
        session.commit()
    log.warning("demo year added: %d synthetic cases (hotline demo remove deletes them)", len(rows))
    return len(rows)


def remove(engine: Engine) -> int:
    """Delete the demo year's cases and everything that hangs on them; how many cases."""
    with Session(engine) as session:
        ids = select(Case.id).where(col(Case.event_key).startswith(MARK))
        count = len(session.exec(ids).all())
        for table, column in (
            (CaseEvent, CaseEvent.case_id),
            (CaseNote, CaseNote.case_id),
            (Escalation, Escalation.case_id),
            (Referral, Referral.case_id),
            (AuditEntry, AuditEntry.case_id),
        ):
            session.execute(delete(table).where(col(column).in_(ids)))
        session.execute(delete(Case).where(col(Case.event_key).startswith(MARK)))
        audit.record(session, actor="system", action=REMOVED, reason=f"{count} demo cases")
        session.commit()
    return count
