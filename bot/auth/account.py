"""An operator's own account: a new password, set by its owner (``POST /api/me/password``), and
the language the team web speaks to them in.

The hash is made beforehand on the hashing gate (``bot.auth.hashing``); here it is stored,
every earlier token ended (``bot.auth.tokens.end_sessions``) and the change audited — never
with the password.
"""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.auth.tokens import end_sessions
from bot.core.languages import is_language
from bot.governance import audit
from bot.models import Operator

log = logging.getLogger(__name__)


def set_own_password(engine: Engine, operator_id: int, password_hash: str) -> None:
    """Store the operator's new hash, end their sessions, audit it, commit."""
    with Session(engine) as session:
        operator = session.get(Operator, operator_id)
        if operator is None:
            raise LookupError(f"no operator {operator_id}")
        operator.password_hash = password_hash
        end_sessions(operator)
        session.add(operator)
        audit.record(
            session, actor=operator.username, action="change_password", reason="own password"
        )
        session.commit()
        log.info("%s changed their password; earlier tokens ended", operator.username)


def set_own_language(session: Session, operator: Operator, lang: str) -> None:
    """The operator's language (team web pages, alerts); ValueError for one we do not speak.
    The caller commits."""
    if not is_language(lang):
        raise ValueError(f"not a language of the hotline: {lang!r}")
    operator.lang = lang
    session.add(operator)
