"""Members of the team: adding one, changing one, and the rules both keep.

Rules: a username is 2-64 characters of lowercase letters, digits, ``.``, ``_`` or ``-`` and
unique; a role is one of ``bot.team.roles.ROLES``; a language one of ``bot.core.languages``;
a password passes ``bot.auth.passwords``'s rules and is stored as an argon2id hash; an on-call
phone (for SMS alerts) is stored encrypted and never shown; the team always keeps at least one
active admin. Every add and change is audited (never with a phone or a password).

Functions work in the caller's session and never commit; they raise domain errors
(``InvalidOperator``, ``UsernameTaken``, ``NoSuchOperator``, ``LastAdmin``), which the JSON
API, the team web and ``hotline users add`` each turn into their own answer.
"""

from __future__ import annotations

import logging
import re
import secrets

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from bot.auth.passwords import WeakPassword, hash_password
from bot.auth.tokens import end_sessions
from bot.core.languages import LANGUAGES, is_language
from bot.core.privacy import Cipher, normalise_phone
from bot.governance import audit
from bot.models import Operator
from bot.team.roles import ROLES, is_role

log = logging.getLogger(__name__)

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MAX_NAME = 120
PHONE_CONTEXT = "operator.phone"
"""Where an operator's encrypted phone is stored (binds the ciphertext to its column)."""


class InvalidOperator(ValueError):
    """A field of an operator breaks a rule; ``field`` names it, the message says how."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


class UsernameTaken(ValueError):
    """Another operator has this username."""


class NoSuchOperator(LookupError):
    """No operator has this username."""

    def __init__(self, username: str) -> None:
        self.username = username
        super().__init__(f"no operator {username!r}")


class LastAdmin(Exception):
    """The change would leave the team without an active admin."""

    def __init__(self) -> None:
        super().__init__("the team needs one active admin")


def normal_username(username: str) -> str:
    """A username as stored and compared: trimmed, lowercase."""
    return username.strip().lower()


def check_username(username: str) -> str:
    """The username, normalised, when it follows the rules; else InvalidOperator."""
    username = normal_username(username)
    if not USERNAME.match(username):
        raise InvalidOperator(
            "username",
            "a username is 2-64 characters: lowercase letters, digits, '.', '_' or '-'",
        )
    return username


def check_role(role: str) -> str:
    """The role when it is one of ours; else InvalidOperator."""
    if not is_role(role):
        raise InvalidOperator("role", f"role must be one of {', '.join(ROLES)}")
    return role


def check_display_name(name: str) -> str:
    """The name the team sees, trimmed, 1-120 characters; else InvalidOperator."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidOperator("name", f"a name is 1-{MAX_NAME} characters")
    return name


def check_lang(lang: str) -> str:
    """The language the team web speaks to them in; else InvalidOperator."""
    if not is_language(lang):
        raise InvalidOperator("lang", f"lang must be one of {', '.join(LANGUAGES)}")
    return lang


def encrypt_phone(cipher: Cipher, phone: str | None) -> str | None:
    """An on-call phone, checked and encrypted for storage; None for none (or blank)."""
    if phone is None or not phone.strip():
        return None
    try:
        number = normalise_phone(phone)
    except ValueError as exc:
        raise InvalidOperator("phone", str(exc)) from None
    if not 8 <= len(number) - 1 <= 15:
        raise InvalidOperator("phone", "a phone number has 8 to 15 digits, with its country code")
    return cipher.encrypt(number, PHONE_CONTEXT)


def _new_hash(password: str) -> str:
    try:
        return hash_password(password)
    except WeakPassword as exc:
        raise InvalidOperator("password", str(exc)) from None


def find_operator(session: Session, username: str) -> Operator:
    """The operator with this username (any case, spaces trimmed); else NoSuchOperator."""
    operator = session.exec(
        select(Operator).where(col(Operator.username) == normal_username(username))
    ).first()
    if operator is None:
        raise NoSuchOperator(username)
    return operator


def list_operators(session: Session) -> list[Operator]:
    """The whole team (active or not), by username."""
    return list(session.exec(select(Operator).order_by(col(Operator.username))).all())


def add_operator(
    session: Session,
    cipher: Cipher,
    *,
    username: str,
    role: str,
    display_name: str,
    password: str,
    lang: str = "en",
    phone: str | None = None,
    actor: str,
) -> Operator:
    """Add an operator (InvalidOperator for a bad field, UsernameTaken); the caller commits."""
    username = check_username(username)
    role = check_role(role)
    display_name = check_display_name(display_name)
    lang = check_lang(lang)
    stored_phone = encrypt_phone(cipher, phone)
    password_hash = _new_hash(password)
    if session.exec(select(Operator.id).where(col(Operator.username) == username)).first():
        raise UsernameTaken(f"the username {username} is taken")
    operator = Operator(
        username=username,
        display_name=display_name,
        role=role,
        lang=lang,
        password_hash=password_hash,
        phone=stored_phone,
    )
    session.add(operator)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise UsernameTaken(f"the username {username} is taken") from None
    audit.record(session, actor=actor, action="add_operator", reason=f"{username} as {role}")
    log.info("operator %s added as %s by %s", username, role, actor)
    return operator


def _other_active_admins(session: Session, operator: Operator) -> int:
    return session.exec(
        select(func.count())
        .select_from(Operator)
        .where(
            col(Operator.role) == "admin",
            col(Operator.active).is_(True),
            col(Operator.id) != operator.id,
        )
    ).one()


def change_operator(
    session: Session,
    operator: Operator,
    *,
    actor: str,
    active: bool | None = None,
    role: str | None = None,
    password: str | None = None,
    lang: str | None = None,
    display_name: str | None = None,
    phone: str | None = None,
    cipher: Cipher | None = None,
) -> list[str]:
    """Change what is given (None: leave it); the changes made, as words for the audit.

    Every field is checked before anything changes (InvalidOperator), and LastAdmin refuses a
    change that leaves no active admin. Deactivating or a new password ends the operator's
    tokens and team-web sessions at once (``bot.auth.tokens.end_sessions``). ``phone`` needs
    ``cipher``; an empty one removes it. The caller commits.
    """
    new_hash = _new_hash(password) if password is not None else None
    if role is not None:
        check_role(role)
    if lang is not None:
        check_lang(lang)
    name = check_display_name(display_name) if display_name is not None else None
    stored_phone: str | None = None
    if phone is not None:
        if cipher is None:
            raise ValueError("a phone change needs the cipher")
        stored_phone = encrypt_phone(cipher, phone)
    was_admin = operator.role == "admin" and operator.active
    stays_admin = (role or operator.role) == "admin" and (
        operator.active if active is None else active
    )
    if was_admin and not stays_admin and _other_active_admins(session, operator) == 0:
        raise LastAdmin()
    changes: list[str] = []
    if new_hash is not None:
        operator.password_hash = new_hash
        end_sessions(operator)  # signed in elsewhere, with the old password: no more
        changes.append("password")
    if role is not None and role != operator.role:
        operator.role = role
        changes.append(f"role {role}")
    if active is not None and active != operator.active:
        operator.active = active
        if not active:
            end_sessions(operator)  # reactivating later revives none of their tokens
        changes.append("active" if active else "deactivated")
    if lang is not None and lang != operator.lang:
        operator.lang = lang
        changes.append(f"lang {lang}")
    if name is not None and name != operator.display_name:
        operator.display_name = name
        changes.append("name")
    if phone is not None and (stored_phone is not None or operator.phone is not None):
        operator.phone = stored_phone
        operator.phone_contact = None  # its pseudonym is redone when next needed (SMS commands)
        changes.append("phone" if stored_phone else "phone removed")
    if changes:
        session.add(operator)
        audit.record(
            session,
            actor=actor,
            action="change_operator",
            reason=f"{operator.username}: {', '.join(changes)}",
        )
        log.info("operator %s changed by %s: %s", operator.username, actor, ", ".join(changes))
    return changes


def deactivate(session: Session, operator: Operator, *, actor: str) -> list[str]:
    """Take an operator off the team (their tokens stop at once); LastAdmin for the last admin."""
    return change_operator(session, operator, actor=actor, active=False)


TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXYZ2346789"
"""Letters and digits that cannot be mistaken for one another when read out or copied."""
TEMPORARY_LENGTH = 16


def temporary_password() -> str:
    """A random password that passes the rules, to be shown once and changed by its owner."""
    return "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(TEMPORARY_LENGTH))


def reset_password(
    session: Session, operator: Operator, *, actor: str, password: str | None = None
) -> str:
    """Give an operator a new password (the one typed, else a temporary one) and end their
    sessions; the password, to show once (never stored or logged in clear). InvalidOperator
    for a typed password that breaks the rules. The caller commits."""
    new = password if password is not None and password != "" else temporary_password()
    change_operator(session, operator, actor=actor, password=new)
    return new


def reactivate(session: Session, operator: Operator, *, actor: str) -> list[str]:
    """Take an operator back on the team; none of their old sessions comes back."""
    return change_operator(session, operator, actor=actor, active=True)
