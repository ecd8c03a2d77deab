"""Retention (DESIGN §9): contact data goes after 30 days, closed cases anonymised after 2 years.

``purge`` runs in one transaction and is idempotent (a second run finds nothing to do):

- a case **without consent** to be contacted, created more than ``contact_days`` ago, loses its
  pseudonymous ``contact``, its ``contact_phone`` and ``safe_time``;
- a case **with consent**, closed more than ``contact_days`` ago, loses ``contact_phone`` and
  ``safe_time`` (a number is kept only while it may be needed); its pseudonym stays until the
  case is anonymised, so a repeat report can still be linked;
- a case whose contact consent was **withdrawn** loses its ``contact_phone`` once the grace
  (``contact_phone_delete_after``) has ended; during it no other rule deletes that number;
- a case **closed more than** ``closed_days`` ago is anonymised: narrative, answers, contact,
  number and safe time are cleared, its notes are deleted and ``anonymised_at`` is set. The row
  stays with what statistics need (kind, channel, language, area, exploitation type, people,
  age band, minor flag, rule, priority, status, close reason, dates) and its timeline;
- an outbox row older than ``contact_days`` loses its recipient and its body is replaced by
  ``PURGED_BODY`` (a fixed marker, not a token: nothing decrypts it, key rotation skips it);
  one still waiting to be sent is marked failed ("expired"), so nothing stale goes out;
- inbound message ids older than ``contact_days`` are deleted (kept only for dedupe/floods);
- partner confirmation codes expired or spent more than ``contact_days`` ago are deleted (a
  late reply to one is still answered "refused" until then).

Each cleared case gets a ``retention`` line on its timeline, and each run (not a dry run) one
audit entry with the counts. Run it daily: ``purge_job`` (arq cron) or ``purge_forever``
(in-process loop).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    delete,
    exists,
    false,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from bot.cases.status import Status
from bot.governance import audit
from bot.models import (
    Case,
    CaseEvent,
    CaseNote,
    InboundMessage,
    OutboundMessage,
    OutboxStatus,
    PartnerCode,
)

log = logging.getLogger(__name__)

PURGED_BODY = "purged"
"""What an outbox body becomes after retention: a marker, not a token (no dots, no key id)."""

CONTACT_DAYS = 30
CLOSED_DAYS = 730
CHUNK = 500  # ids per IN (...) clause
PURGE_INTERVAL = timedelta(hours=24)


@dataclass(frozen=True)
class PurgeReport:
    """What one purge cleared (or, in a dry run, would clear), per kind."""

    contacts_cleared: int = 0  # cases without consent: pseudonym, number, safe time
    numbers_cleared: int = 0  # closed cases with consent: number, safe time
    withdrawn_cleared: int = 0  # consent withdrawn, its grace over: number
    cases_anonymised: int = 0
    notes_deleted: int = 0
    outbox_cleared: int = 0  # recipient wiped, body replaced by the marker
    outbox_expired: int = 0  # of those, still unsent: marked failed
    inbound_deleted: int = 0
    partner_codes_deleted: int = 0  # expired or spent more than contact_days ago
    dry_run: bool = False

    @property
    def total(self) -> int:
        """Rows changed or deleted (``outbox_expired`` is part of ``outbox_cleared``)."""
        return (
            self.contacts_cleared
            + self.numbers_cleared
            + self.withdrawn_cleared
            + self.cases_anonymised
            + self.notes_deleted
            + self.outbox_cleared
            + self.inbound_deleted
            + self.partner_codes_deleted
        )

    def counts(self) -> dict[str, int]:
        """The counts by name (for the audit entry, the CLI and the job result)."""
        return {k: v for k, v in asdict(self).items() if k != "dry_run"}

    def summary(self) -> str:
        """One line: ``contacts_cleared=1 numbers_cleared=0 ...``."""
        return " ".join(f"{k}={v}" for k, v in self.counts().items())


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def _cleared(
    connection: Connection, where: ColumnElement[bool], now: datetime, detail: str, **values: Any
) -> list[int]:
    """Clear ``values`` of the cases matching ``where``; a ``retention`` line on each timeline."""
    changed = update(Case).where(where).values(**values).returning(col(Case.id))
    ids = sorted(i for i in connection.execute(changed).scalars() if i is not None)
    if ids:
        connection.execute(
            insert(CaseEvent),
            [
                {
                    "case_id": i,
                    "at": now,
                    "actor": audit.SYSTEM,
                    "kind": "retention",
                    "detail": detail,
                }
                for i in ids
            ],
        )
    return ids


def purge(
    engine: Engine,
    *,
    now: datetime,
    contact_days: int = CONTACT_DAYS,
    closed_days: int = CLOSED_DAYS,
    dry_run: bool = False,
) -> PurgeReport:
    """Clear and anonymise what retention says may no longer be kept; see the module docstring.

    ``now`` is the clock (timezone-aware). A dry run counts the same rows and changes nothing.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if contact_days < 1 or closed_days < 1:
        raise ValueError("retention periods are at least one day")
    contact_cutoff = now - timedelta(days=contact_days)
    closed_cutoff = now - timedelta(days=closed_days)

    closed = and_(
        col(Case.status) == Status.CLOSED.value,
        col(Case.closed_at).is_not(None),
    )
    long_closed = and_(closed, col(Case.closed_at) < closed_cutoff)
    has_notes = exists().where(col(CaseNote.case_id) == col(Case.id)).correlate(Case)
    anonymise = and_(
        long_closed,
        or_(
            col(Case.anonymised_at).is_(None),
            col(Case.narrative).is_not(None),
            col(Case.answers).is_not(None),
            col(Case.contact).is_not(None),
            col(Case.contact_phone).is_not(None),
            col(Case.safe_time).is_not(None),
            has_notes,
        ),
    )
    in_grace = col(Case.contact_phone_delete_after) > now
    grace_over = and_(
        col(Case.contact_phone_delete_after) <= now,
        col(Case.contact_phone).is_not(None),
        ~long_closed,
    )
    # Disjoint from ``anonymise`` so a dry run counts what a real run does. A number whose
    # consent was withdrawn stays through the grace (a supervisor may restore the consent).
    unconsented = and_(
        col(Case.consent_contact) == false(),
        col(Case.created_at) < contact_cutoff,
        or_(
            col(Case.contact).is_not(None),
            col(Case.contact_phone).is_not(None),
            col(Case.safe_time).is_not(None),
        ),
        ~long_closed,
        or_(col(Case.contact_phone_delete_after).is_(None), ~in_grace),
    )
    consented_closed = and_(
        col(Case.consent_contact) == true(),
        closed,
        col(Case.closed_at) < contact_cutoff,
        or_(col(Case.contact_phone).is_not(None), col(Case.safe_time).is_not(None)),
        ~long_closed,
    )
    old_outbox = and_(
        col(OutboundMessage.created_at) < contact_cutoff,
        or_(
            col(OutboundMessage.recipient).is_not(None),
            col(OutboundMessage.body) != PURGED_BODY,
        ),
    )
    unsent = col(OutboundMessage.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
    old_inbound = col(InboundMessage.received_at) < contact_cutoff
    # A partner's late reply to a code still gets the "refused" answer for contact_days.
    old_codes = or_(
        col(PartnerCode.expires_at) < contact_cutoff, col(PartnerCode.used_at) < contact_cutoff
    )

    case_ids = col(Case.id)
    with engine.begin() as connection:
        if dry_run:

            def count(table: Any, where: ColumnElement[bool]) -> int:
                query = select(func.count()).select_from(table).where(where)
                return int(connection.execute(query).scalar_one())

            anonymised = count(Case, anonymise)
            notes = count(CaseNote, col(CaseNote.case_id).in_(select(case_ids).where(anonymise)))
            no_consent = count(Case, unconsented)
            numbers = count(Case, consented_closed)
            withdrawn = count(Case, grace_over)
            expired = count(OutboundMessage, and_(old_outbox, unsent))
            outbox_cleared = count(OutboundMessage, old_outbox)
            inbound = count(InboundMessage, old_inbound)
            codes = count(PartnerCode, old_codes)
        else:
            # Each step is one UPDATE/DELETE whose WHERE is the rule itself, so a row changed
            # concurrently (a case reopened, a message sent) is judged as it is now.
            ids = _cleared(
                connection,
                anonymise,
                now,
                f"anonymised after {closed_days} days",
                narrative=None,
                answers=None,
                contact=None,
                contact_phone=None,
                contact_phone_delete_after=None,
                safe_time=None,
                anonymised_at=now,
            )
            anonymised = len(ids)
            notes = 0
            for chunk in _chunks(ids):
                notes += connection.execute(
                    delete(CaseNote).where(col(CaseNote.case_id).in_(chunk))
                ).rowcount
            withdrawn = len(
                _cleared(
                    connection,
                    grace_over,
                    now,
                    "number deleted: contact consent withdrawn, grace over",
                    contact_phone=None,
                    contact_phone_delete_after=None,
                )
            )
            no_consent = len(
                _cleared(
                    connection,
                    unconsented,
                    now,
                    f"contact removed after {contact_days} days",
                    contact=None,
                    contact_phone=None,
                    contact_phone_delete_after=None,
                    safe_time=None,
                )
            )
            numbers = len(
                _cleared(
                    connection,
                    consented_closed,
                    now,
                    f"number removed {contact_days} days after closing",
                    contact_phone=None,
                    safe_time=None,
                )
            )
            expired = connection.execute(
                update(OutboundMessage)
                .where(and_(old_outbox, unsent))
                .values(
                    status=OutboxStatus.FAILED,
                    claimed_until=None,
                    last_error=f"expired: not sent within {contact_days} days (retention)",
                )
            ).rowcount
            outbox_cleared = connection.execute(
                update(OutboundMessage).where(old_outbox).values(recipient=None, body=PURGED_BODY)
            ).rowcount
            inbound = connection.execute(delete(InboundMessage).where(old_inbound)).rowcount
            codes = connection.execute(delete(PartnerCode).where(old_codes)).rowcount
        report = PurgeReport(
            contacts_cleared=no_consent,
            numbers_cleared=numbers,
            withdrawn_cleared=withdrawn,
            cases_anonymised=anonymised,
            notes_deleted=notes,
            outbox_cleared=outbox_cleared,
            partner_codes_deleted=codes,
            outbox_expired=expired,
            inbound_deleted=inbound,
            dry_run=dry_run,
        )
        if not dry_run:
            with Session(bind=connection) as session:
                audit.record(
                    session, actor=audit.SYSTEM, action="purge", reason=report.summary(), at=now
                )
                session.flush()
    log.info("retention purge%s: %s", " (dry run)" if dry_run else "", report.summary())
    return report
