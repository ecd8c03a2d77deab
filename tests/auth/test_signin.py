"""Signing in: credentials checked under the throttle, failures logged without secrets."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.auth import passwords
from bot.auth.hashing import HashGate, HashingBusy
from bot.auth.signin import WrongCredentials, check_credentials, sign_in
from bot.auth.throttle import MAX_FAILURES, LoginThrottle, TooManyFailures
from bot.models import Operator
from bot.sessions import MemorySessionStore
from tests.api import FAST_HASHER, PASSWORD, seed_team
from tests.cases.helpers import T0


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "HASHER", FAST_HASHER)


@pytest.fixture
def throttle() -> LoginThrottle:
    return LoginThrottle(MemorySessionStore(), b"s" * 32)


async def test_good_credentials_give_the_operator(engine: Engine, throttle: LoginThrottle) -> None:
    seed_team(engine)
    operator = await sign_in(engine, throttle, " Amani ", PASSWORD, now=T0)
    assert (operator.username, operator.role) == ("amani", "operator")


async def test_wrong_password_unknown_or_inactive_user_are_refused_alike(
    engine: Engine, throttle: LoginThrottle, caplog: pytest.LogCaptureFixture
) -> None:
    seed_team(engine)
    caplog.set_level(logging.INFO)
    with Session(engine) as session:
        lerato = session.exec(select(Operator).where(col(Operator.username) == "lerato")).one()
        lerato.active = False
        session.add(lerato)
        session.commit()
    for username, password in [
        ("amani", "not the password at all"),
        ("someone-typed-this", PASSWORD),
        ("lerato", PASSWORD),
    ]:
        with pytest.raises(WrongCredentials, match="wrong username or password"):
            await sign_in(engine, throttle, username, password, now=T0)
    assert "login failed for amani (1 in 15 min)" in caplog.text
    assert "someone-typed-this" not in caplog.text and "an unknown username" in caplog.text
    assert "not the password" not in caplog.text and PASSWORD not in caplog.text


async def test_the_throttle_refuses_even_the_right_password(
    engine: Engine, throttle: LoginThrottle
) -> None:
    seed_team(engine)
    for _ in range(MAX_FAILURES):
        with pytest.raises(WrongCredentials):
            await sign_in(engine, throttle, "amani", "a wrong guess, long", now=T0)
    with pytest.raises(TooManyFailures):
        await sign_in(engine, throttle, "amani", PASSWORD, now=T0)


async def test_per_address_counting_when_the_address_is_given(engine: Engine) -> None:
    seed_team(engine)
    throttle = LoginThrottle(MemorySessionStore(), b"s" * 32, max_address_failures=2)
    for username in ("nobody", "ghost"):
        with pytest.raises(WrongCredentials):
            await sign_in(engine, throttle, username, PASSWORD, now=T0, address="198.51.100.7")
    with pytest.raises(TooManyFailures) as refused:
        await sign_in(engine, throttle, "amani", PASSWORD, now=T0, address="198.51.100.7")
    assert refused.value.kind == "address"
    signed = await sign_in(engine, throttle, "amani", PASSWORD, now=T0, address="203.0.113.9")
    assert signed.username == "amani"


async def test_a_full_hashing_gate_refuses_at_once_without_counting_a_failure(
    engine: Engine, throttle: LoginThrottle
) -> None:
    seed_team(engine)
    gate = HashGate(concurrency=1, waiting=0)
    release = threading.Event()
    busy = asyncio.ensure_future(gate.run(release.wait, 5))
    await asyncio.sleep(0.05)
    with pytest.raises(HashingBusy):
        await sign_in(engine, throttle, "amani", "a wrong guess, long", now=T0, gate=gate)
    release.set()
    await busy
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(WrongCredentials):
            await sign_in(engine, throttle, "amani", "a wrong guess, long", now=T0, gate=gate)
    assert (await sign_in(engine, throttle, "amani", PASSWORD, now=T0, gate=gate)).id


def test_check_credentials_upgrades_an_outdated_hash(engine: Engine) -> None:
    seed_team(engine)
    weak = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(PASSWORD)
    with Session(engine) as session:
        amani = session.exec(select(Operator).where(col(Operator.username) == "amani")).one()
        amani.password_hash = weak
        session.add(amani)
        session.commit()
    operator = check_credentials(engine, "amani", PASSWORD)
    assert operator is not None and operator.password_hash != weak
    assert (operator.password_hash or "").startswith("$argon2id$v=19$m=1024,")
    assert check_credentials(engine, "amani", "wrong password, long") is None
