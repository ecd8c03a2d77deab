"""Key rotation: re-encrypt every stored secret under the newest key, so old keys can be dropped.

Put a new key first in ``HOTLINE_ENCRYPTION_KEYS`` (``NEW,OLD``), restart, then run
``hotline keys rotate``. Each encrypted column is walked by id in batches, each batch in its own
transaction; a row is rewritten only if its value is still the token that was read
(compare-and-set), so a concurrent edit is never overwritten. A token that no configured key
opens is reported by table, column and id (never its content) and left as it is: rotation goes
on, and nothing is lost. Once a rotation reports no such tokens, the old key can be removed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from bot.core.clock import utcnow
from bot.core.privacy import TOKEN_VERSION, Cipher, DecryptError, key_id
from bot.governance import audit
from bot.governance.retention import PURGED_BODY
from bot.models import Case, CaseNote, Operator, OutboundMessage
from bot.outbox import queue

log = logging.getLogger(__name__)

BATCH = 500


@dataclass(frozen=True)
class EncryptedColumn:
    """A column holding tokens, and the context its tokens are bound to."""

    model: Any  # a SQLModel table class
    column: str
    context: str

    @property
    def name(self) -> str:
        """``table.column``, as reports show it."""
        return f"{self.model.__tablename__}.{self.column}"


COLUMNS: tuple[EncryptedColumn, ...] = (
    EncryptedColumn(OutboundMessage, "recipient", queue.RECIPIENT),
    EncryptedColumn(OutboundMessage, "body", queue.BODY),
    EncryptedColumn(Case, "answers", "case.answers"),
    EncryptedColumn(Case, "safe_time", "case.safe_time"),
    EncryptedColumn(Case, "contact_phone", "case.contact_phone"),
    EncryptedColumn(Case, "narrative", "case.narrative"),
    EncryptedColumn(CaseNote, "body", "case_note.body"),
    EncryptedColumn(Operator, "phone", "operator.phone"),
    EncryptedColumn(Operator, "telegram_chat", "operator.telegram_chat"),
)
"""Every encrypted column in the schema; a new one must be added here to be rotated."""

SUMMARY_MAX = 300
NOT_TOKENS = frozenset({"", PURGED_BODY})
"""Values that are deliberately not tokens (a purged outbox body): skipped, not reported."""


@dataclass(frozen=True)
class Unreadable:
    """A stored token that no configured key opens (or that was altered): where it is."""

    table: str
    column: str
    id: int

    def __str__(self) -> str:
        return f"{self.table}.{self.column} id={self.id}"


@dataclass
class RotateReport:
    """Tokens re-encrypted per column, and the ones no key opens."""

    key: str  # the public id of the key everything is now under
    rotated: dict[str, int] = field(default_factory=lambda: {c.name: 0 for c in COLUMNS})
    unreadable: list[Unreadable] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Tokens re-encrypted in all columns."""
        return sum(self.rotated.values())

    def summary(self) -> str:
        """One line for the audit log (no ids, no content)."""
        counts = " ".join(f"{name}={n}" for name, n in self.rotated.items() if n)
        detail = f" ({counts or 'none'})"
        line = f"to key {self.key}: {self.total} rotated{detail}; {len(self.unreadable)} unreadable"
        if len(line) <= SUMMARY_MAX:
            return line
        return line.replace(detail, "")  # the audit reason column holds 300 characters


def _rotate_column(
    engine: Engine, cipher: Cipher, spec: EncryptedColumn, batch: int, report: RotateReport
) -> None:
    model = spec.model
    ident = col(model.id)
    value = getattr(model, spec.column)
    current = f"{TOKEN_VERSION}.{key_id(cipher.keys[0])}."
    last = 0
    while True:
        with engine.begin() as connection:
            rows = connection.execute(
                select(ident, value)
                .where(
                    ident > last,
                    value.is_not(None),
                    value.not_in(sorted(NOT_TOKENS)),
                    ~value.startswith(current, autoescape=True),
                )
                .order_by(ident)
                .limit(batch)
            ).all()
            for row_id, token in rows:
                if cipher.is_current(token):
                    continue
                try:
                    fresh = cipher.encrypt(cipher.decrypt(token, spec.context), spec.context)
                except DecryptError:
                    report.unreadable.append(Unreadable(model.__tablename__, spec.column, row_id))
                    log.warning("key rotation: no configured key opens %s id=%s", spec.name, row_id)
                    continue
                done = connection.execute(
                    update(model)
                    .where(and_(ident == row_id, value == token))
                    .values({spec.column: fresh})
                )
                report.rotated[spec.name] += done.rowcount
        if len(rows) < batch:
            return
        last = rows[-1][0]


def rotate(
    engine: Engine, cipher: Cipher, *, batch: int = BATCH, actor: str = audit.SYSTEM
) -> RotateReport:
    """Re-encrypt every token not made by the newest key; see the module docstring."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    report = RotateReport(key=key_id(cipher.keys[0]))
    for spec in COLUMNS:
        _rotate_column(engine, cipher, spec, batch, report)
    with Session(engine) as session:
        audit.record(
            session, actor=actor, action="rotate_keys", reason=report.summary(), at=utcnow()
        )
        session.commit()
    log.info("key rotation: %s", report.summary())
    return report
