"""argon2id password hashes: the rules a new password must pass, hashing and checking.

``verify_password`` spends the same time whether or not there is a hash to check (a dummy
hash stands in for an unknown username), so timing does not tell who has an account.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD = 12
MAX_PASSWORD = 1024

HASHER = PasswordHasher(type=Type.ID)
"""argon2id with the library's defaults (RFC 9106: 64 MiB, 3 passes); tests swap in cheaper."""


class WeakPassword(ValueError):
    """A new password breaks the rules (the message says which)."""


def check_password_rules(password: str) -> None:
    """WeakPassword when a new password is too weak to protect case files."""
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise WeakPassword(f"a password is at most {MAX_PASSWORD} characters")


def hash_password(password: str) -> str:
    """An argon2id hash (salt and parameters included) of a password that passes the rules."""
    check_password_rules(password)
    return HASHER.hash(password)


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("no such operator; spend the same time")


def verify_password(password_hash: str | None, password: str) -> bool:
    """Does ``password`` match? Costs the same time when there is no hash to check."""
    try:
        matched = HASHER.verify(password_hash or _dummy_hash(HASHER), password)
    except (VerificationError, InvalidHashError):
        return False
    return matched and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    """Was this hash made with weaker parameters than ``HASHER``'s (upgrade it at sign-in)?"""
    return HASHER.check_needs_rehash(password_hash)


def rehash(password: str) -> str:
    """A fresh hash of a password already verified (no rules: it was accepted once)."""
    return HASHER.hash(password)
