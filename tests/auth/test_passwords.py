"""argon2id password hashes: strong parameters, the rules, a dummy hash for unknown users."""

from __future__ import annotations

from typing import Literal

import pytest
from argon2 import PasswordHasher, Type

from bot.auth import passwords
from bot.auth.passwords import (
    MIN_PASSWORD,
    WeakPassword,
    check_password_rules,
    hash_password,
    needs_rehash,
    rehash,
    verify_password,
)
from tests.api import FAST_HASHER

PRODUCTION_HASHER = passwords.HASHER


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "HASHER", FAST_HASHER)


def test_passwords_are_argon2id_with_strong_parameters() -> None:
    assert PRODUCTION_HASHER.type is Type.ID
    assert PRODUCTION_HASHER.memory_cost >= 64 * 1024 and PRODUCTION_HASHER.time_cost >= 3
    hashed = hash_password("a long enough password")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "a long enough password")
    assert not verify_password(hashed, "a long enough passworD")
    assert not verify_password(None, "anything at all here")
    assert not verify_password("not a hash", "anything at all here")
    with pytest.raises(ValueError, match="at least 12"):
        hash_password("short")


@pytest.mark.parametrize(
    ("password", "problem"),
    [("x" * (MIN_PASSWORD - 1), "at least 12"), ("x" * 1025, "at most 1024")],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, problem: str) -> None:
    with pytest.raises(WeakPassword, match=problem) as refused:
        check_password_rules(password)
    assert isinstance(refused.value, ValueError)
    check_password_rules("x" * MIN_PASSWORD)
    check_password_rules("x" * 1024)


class CountingHasher(PasswordHasher):
    """A cheap hasher that counts the verifications it runs."""

    def __init__(self) -> None:
        super().__init__(type=Type.ID, time_cost=1, memory_cost=1024, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verified += 1
        return super().verify(hash, password)


def test_an_unknown_user_costs_one_verification_like_a_known_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hasher = CountingHasher()
    monkeypatch.setattr(passwords, "HASHER", hasher)
    known = hasher.hash("a long enough password")
    assert not verify_password(known, "a wrong password here")
    assert not verify_password(None, "no such operator; spend the same time")
    assert hasher.verified == 2, "no hash still runs argon2 once (a dummy hash)"


def test_outdated_hashes_need_a_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash("old but fine")
    assert needs_rehash(weak)
    fresh = rehash("old but fine")
    assert not needs_rehash(fresh)
    assert verify_password(fresh, "old but fine")
    assert fresh.startswith("$argon2id$v=19$m=1024,")
