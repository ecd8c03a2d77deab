"""The escalation ladder: primary, then backup, then supervisor, 10 minutes apart.

A new P1 alerts the primary on call at once (see ``intake``). A case not acknowledged by its
deadline, or a P2-P4 case not triaged by its target (24 h, 72 h, a week), climbs a level.
Deadlines are rows, so a restart loses nothing, and each step is claimed by a
compare-and-set so two workers never escalate the same step twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.cases.alerts import AlertPolicy, alert_operator
from bot.core.metrics import ESCALATIONS, label
from bot.core.metrics import LEVELS as METRIC_LEVELS
from bot.core.privacy import Cipher
from bot.core.settings import Settings
from bot.i18n.translate import Translate
from bot.models import Case, CaseEvent, Escalation, Operator
from bot.team.oncall import LEVELS, on_call

log = logging.getLogger(__name__)

TOP = len(LEVELS) - 1


def acknowledge(
    session: Session, case: Case, *, actor: Operator, now: datetime, via: str | None = None
) -> bool:
    """An operator has the case: stop the ladder. False when it was already acknowledged.

    ``via`` names how, when not the team web or the API (``SMS``): the timeline says so."""
    assert case.id is not None
    first = case.acknowledged_at is None
    if first:
        case.acknowledged_at = now
        case.updated_at = now
        session.add(case)
    session.execute(
        update(Escalation)
        .where(col(Escalation.case_id) == case.id, col(Escalation.done).is_(False))
        .values(done=True, acknowledged_at=now)
    )
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor=actor.username,
            kind="ack",
            detail=", ".join(([] if first else ["again"]) + ([f"by {via}"] if via else [])) or None,
        )
    )
    return first


def sweep(
    engine: Engine,
    cipher: Cipher,
    tr: Translate,
    *,
    now: datetime,
    policy: AlertPolicy | None = None,
) -> list[int]:
    """Climb the ladder for every missed deadline; returns outbox ids of the alerts queued.

    Its alerts are grouped and budgeted like a new P1's (``policy``: from the settings when
    not given), so a burst of cases missing their deadline together is no storm either.
    """
    policy = policy or AlertPolicy.from_settings(Settings())
    return _overdue_steps(engine, cipher, tr, now, policy) + _overdue_cases(
        engine, cipher, tr, now, policy
    )


def _overdue_steps(
    engine: Engine, cipher: Cipher, tr: Translate, now: datetime, policy: AlertPolicy
) -> list[int]:
    queued: list[int] = []
    with Session(engine) as session:
        due = session.exec(
            select(Escalation.id).where(
                col(Escalation.done).is_(False), col(Escalation.due_at) <= now
            )
        ).all()
    for escalation_id in due:
        with Session(engine) as session:
            taken = session.execute(
                update(Escalation)
                .where(col(Escalation.id) == escalation_id, col(Escalation.done).is_(False))
                .values(done=True)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                continue  # another worker took this step
            step = session.get(Escalation, escalation_id)
            assert step is not None
            case = session.get(Case, step.case_id)
            if case is None or case.acknowledged_at is not None or case.status == "closed":
                session.commit()
                continue
            if step.level >= TOP:
                session.add(
                    CaseEvent(
                        case_id=step.case_id,
                        at=now,
                        actor="system",
                        kind="alert",
                        detail="supervisor did not acknowledge",
                    )
                )
                log.error("case %s: nobody acknowledged, supervisor included", case.id)
                session.commit()
                ESCALATIONS.labels("unacknowledged").inc()
                continue
            level = step.level + 1
            team = on_call(session, now)
            try:
                alerts = alert_operator(
                    session,
                    cipher,
                    tr,
                    case=case,
                    operator=team.at_level(level),
                    level=level,
                    reason=step.reason,
                    now=now,
                    team=team,
                    policy=policy,
                )
                session.commit()
            except IntegrityError:
                session.rollback()
                continue
            log.warning("case %s escalated to the %s", case.id, LEVELS[level])
            ESCALATIONS.labels(label(LEVELS[level], METRIC_LEVELS)).inc()
            queued.extend(alerts)
    return queued


def _overdue_cases(
    engine: Engine, cipher: Cipher, tr: Translate, now: datetime, policy: AlertPolicy
) -> list[int]:
    """Cases past their triage target with no ladder yet start one at the primary."""
    queued: list[int] = []
    with Session(engine) as session:
        laddered = select(Escalation.case_id)
        overdue = session.exec(
            select(Case.id).where(
                col(Case.status) == "new",
                col(Case.acknowledged_at).is_(None),
                col(Case.due_at) <= now,
                col(Case.id).not_in(laddered),
            )
        ).all()
    for case_id in overdue:
        with Session(engine) as session:
            case = session.get(Case, case_id)
            if case is None:
                continue
            team = on_call(session, now)
            try:
                alerts = alert_operator(
                    session,
                    cipher,
                    tr,
                    case=case,
                    operator=team.primary,
                    level=0,
                    reason="overdue",
                    now=now,
                    team=team,
                    policy=policy,
                )
                session.commit()
            except IntegrityError:  # another worker started this ladder
                session.rollback()
                continue
            log.warning("case %s overdue for triage (%s); primary alerted", case.id, case.priority)
            ESCALATIONS.labels("primary").inc()
            queued.extend(alerts)
    return queued
