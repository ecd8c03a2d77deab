"""The case-level export for admins: one row per case, whitelisted fields only, encrypted.

No free text (narrative, notes, safe time), no contact, no reference a reporter could quote:
each case is a pseudonym (an HMAC of its id under the pseudonym key), its month, province,
and coded fields. The workbook is encrypted with the password the admin chooses (ECMA-376
Agile encryption: AES-256, SHA-512, 100,000 spins — what Excel and LibreOffice open with the
password; ``msoffcrypto-tool``), and every download is written to the audit log.
"""

from __future__ import annotations

import hashlib
import hmac
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from msoffcrypto.format.ooxml import OOXMLFile
from openpyxl import Workbook
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from bot.directory.csv_io import neutralise
from bot.governance import audit
from bot.models import Case
from bot.stats.cases import age_group
from bot.stats.periods import Period

FIELDS = (
    "case",
    "month",
    "province",
    "kind",
    "channel",
    "language",
    "exploitation_type",
    "age_group",
    "priority",
    "status",
    "close_reason",
    "people_affected",
    "consent_contact",
    "consent_refer",
    "minutes_to_acknowledge",
)
"""The whitelist: nothing else of a case leaves."""
MIN_PASSWORD = 12


class WeakPassword(ValueError):
    """The export's password is too short."""


@dataclass(frozen=True)
class CaseExport:
    """An encrypted workbook and how many cases it holds."""

    content: bytes
    cases: int


def pseudonym(key: bytes, case_id: int) -> str:
    """A case's id in exports: stable for the key, meaningless without it."""
    return hmac.new(key, f"stats-case:{case_id}".encode(), hashlib.sha256).hexdigest()[:16]


def _row(case: Any, key: bytes, provinces: Mapping[str, str]) -> list[object]:
    ack = (
        round((case.acknowledged_at - case.created_at).total_seconds() / 60)
        if case.acknowledged_at is not None
        else None
    )
    values: list[object] = [
        pseudonym(key, case.id),
        case.created_at.strftime("%Y-%m"),
        provinces.get(case.area or "", "unknown"),
        case.kind,
        case.channel,
        case.lang,
        case.exploitation_type or "unknown",
        age_group(case.minor),
        case.priority,
        case.status,
        case.close_reason or "",
        case.people_affected,
        case.consent_contact,
        case.consent_refer,
        ack,
    ]
    return [neutralise(v) if isinstance(v, str) else v for v in values]


def encrypt(workbook: bytes, password: str) -> bytes:
    """The workbook encrypted with ``password`` (opened by Excel/LibreOffice with it)."""
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(workbook)).encrypt(password, out)
    return out.getvalue()


def export_cases(
    session: Session,
    period: Period,
    *,
    password: str,
    actor: str,
    key: bytes,
    provinces: Mapping[str, str],
) -> CaseExport:
    """The period's cases as an encrypted workbook; the download recorded in the audit log
    (in the caller's transaction: commit it with the download)."""
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"the password needs at least {MIN_PASSWORD} characters")
    start, end = period.bounds()
    book = Workbook(write_only=True)
    sheet = book.create_sheet("cases")
    sheet.append(list(FIELDS))
    count = 0
    columns: tuple[Any, ...] = (  # the whitelist's, never the encrypted columns
        Case.id,
        Case.created_at,
        Case.area,
        Case.kind,
        Case.channel,
        Case.lang,
        Case.exploitation_type,
        Case.minor,
        Case.priority,
        Case.status,
        Case.close_reason,
        Case.people_affected,
        Case.consent_contact,
        Case.consent_refer,
        Case.acknowledged_at,
    )
    cases = session.execute(
        sa_select(*columns)
        .where(col(Case.created_at) >= start, col(Case.created_at) < end)
        .order_by(col(Case.id))
        .execution_options(yield_per=2000)
    )
    for case in cases:
        sheet.append(_row(case, key, provinces))
        count += 1
    raw = io.BytesIO()
    book.save(raw)
    audit.record(
        session,
        actor=actor,
        action="stats_export",
        reason=f"case-level export {period}: {count} cases, encrypted",
    )
    return CaseExport(encrypt(raw.getvalue(), password), count)
