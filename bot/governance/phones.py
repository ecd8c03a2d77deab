"""A one-off pass: stored phone numbers re-spelt in E.164, as ``normalise_phone`` spells them now.

Numbers used to be kept as ``+`` and every digit typed, so an operator's phone typed ``00243…``
was kept as ``+00243…`` (which no SMS reaches) and a consented contact number as its caller's
spelling. ``hotline phones normalise`` decrypts each operator's phone and each case's
``contact_phone``, normalises it (``HOTLINE_DEFAULT_REGION`` for a national spelling) and
re-encrypts it only when its spelling changes; a row is rewritten only if it still holds the
token that was read (compare-and-set). A value that is not a phone number, or that no key opens,
is counted and left as it is (never logged). Pseudonyms cannot be redone this way (the number
behind an old one is not kept): see README "Privacy".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from bot.core.clock import utcnow
from bot.core.privacy import Cipher, DecryptError, normalise_phone
from bot.governance import audit
from bot.models import Case, Operator

log = logging.getLogger(__name__)

COLUMNS: tuple[tuple[Any, str, str], ...] = (
    (Operator, "phone", "operator.phone"),
    (Case, "contact_phone", "case.contact_phone"),
)
"""The encrypted columns that hold a phone number: model, column, encryption context."""


@dataclass
class PhonesReport:
    """Numbers re-spelt, and the ones left as they were because they could not be read."""

    changed: dict[str, int] = field(default_factory=dict)
    unreadable: int = 0
    not_numbers: int = 0

    def summary(self) -> str:
        """One line for the audit log and the console (counts only)."""
        counts = " ".join(f"{name}={n}" for name, n in self.changed.items() if n) or "none"
        return (
            f"{sum(self.changed.values())} re-spelt ({counts}); "
            f"{self.unreadable} unreadable; {self.not_numbers} not phone numbers"
        )


def normalise_stored(
    engine: Engine, cipher: Cipher, *, region: str | None = None, actor: str = audit.SYSTEM
) -> PhonesReport:
    """Re-spell every stored phone number in E.164; see the module docstring."""
    report = PhonesReport()
    for model, column, context in COLUMNS:
        name = f"{model.__tablename__}.{column}"
        report.changed[name] = 0
        ident = col(model.id)
        value = getattr(model, column)
        with engine.begin() as connection:
            rows = connection.execute(select(ident, value).where(value.is_not(None))).all()
            for row_id, token in rows:
                try:
                    number = cipher.decrypt(token, context)
                except DecryptError:
                    report.unreadable += 1
                    continue
                try:
                    spelt = normalise_phone(number, region)
                except ValueError:
                    report.not_numbers += 1
                    continue
                if spelt == number:
                    continue
                done = connection.execute(
                    update(model)
                    .where(and_(ident == row_id, value == token))
                    .values({column: cipher.encrypt(spelt, context)})
                )
                report.changed[name] += done.rowcount
    with Session(engine) as session:
        audit.record(
            session, actor=actor, action="normalise_phones", reason=report.summary(), at=utcnow()
        )
        session.commit()
    log.info("phone numbers: %s", report.summary())
    return report
