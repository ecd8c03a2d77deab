"""Building blocks for API tests: the app on a test database, a team with passwords, cases.

The app runs on the ``database_url`` fixture (SQLite and PostgreSQL) with the cipher of
``tests.cases.helpers`` and a clock the test moves (``Clock``). Cases are made the way the
conversation service makes them (``CasesSink.commit``), at ``T0`` by default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher, Type
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.api.request import get_now
from bot.app import create_app
from bot.auth.tokens import issue_token, token_key
from bot.cases.intake import CasesSink
from bot.core.settings import Settings
from bot.engine.state import Event
from bot.models import Case, Operator, Referral, Service
from tests.cases.helpers import CATALOGS, CIPHER, T0, team
from tests.conftest import make_settings as test_settings
from tests.conftest import shipped

FAST_HASHER = PasswordHasher(type=Type.ID, time_cost=1, memory_cost=1024, parallelism=1)
"""argon2id made cheap for tests (swapped in for ``bot.auth.passwords.HASHER``): 0.3 s a login is
the point in production and a waste in a suite that signs in hundreds of times."""
PASSWORD = "correct horse battery staple"
PASSWORD_HASH = FAST_HASHER.hash(PASSWORD)
PSEUDONYM_KEY = "test-pseudonym-key-" + "x" * 24
ROLE_OF = {"amani": "operator", "lerato": "operator", "joseph": "supervisor", "ada": "admin"}
"""The team: two operators, a supervisor, an admin (all with ``PASSWORD``)."""
BY_ROLE = {"operator": "amani", "supervisor": "joseph", "admin": "ada"}
NARRATIVE = "they took our papers at the brick kiln"
SAFE_TIME = "after eight in the evening"


@dataclass
class Clock:
    """The app's now, moved by the test."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Recorder:
    """A notifier that remembers what it was told."""

    def __init__(self) -> None:
        self.told: list[int] = []

    async def notify(self, message_ids: Any) -> None:
        self.told.extend(message_ids)


def make_settings(database_url: str, tmp_path: Path) -> Settings:
    """The embedded default on the test database, with fixed secrets and the test cipher."""
    return test_settings(
        tmp_path,
        env="development",
        database_url=database_url,
        callback_token="test-callback-token-" + "y" * 24,
        pseudonym_key=PSEUDONYM_KEY,
        telegram_webhook_secret="test-webhook-secret-" + "z" * 24,
        encryption_keys=",".join(CIPHER.keys),
        secrets_file=tmp_path / "s.json",
    )


def make_app(database_url: str, tmp_path: Path) -> tuple[FastAPI, Clock]:
    """The app, its clock fixed at ``T0`` until the test moves it."""
    app = create_app(make_settings(database_url, tmp_path), content=shipped())
    clock = Clock()
    app.dependency_overrides[get_now] = clock
    return app, clock


def seed_team(engine: Engine) -> dict[str, int]:
    """The rota's three (with encrypted phones) plus an admin; everyone gets ``PASSWORD``."""
    ids = team(engine)
    with Session(engine) as session:
        admin = Operator(username="ada", display_name="Ada", role="admin", lang="en")
        session.add(admin)
        session.flush()
        assert admin.id is not None
        ids["ada"] = admin.id
        for operator in session.exec(select(Operator)).all():
            operator.password_hash = PASSWORD_HASH
            session.add(operator)
        session.commit()
    return ids


def headers(app: FastAPI, engine: Engine, username: str, *, hours: int = 12) -> dict[str, str]:
    """An Authorization header for ``username`` as ``POST /api/login`` would give it."""
    with Session(engine) as session:
        operator = session.exec(select(Operator).where(col(Operator.username) == username)).one()
    token = issue_token(
        token_key(app.state.settings), operator, expires_at=T0 + timedelta(hours=hours)
    )
    return {"Authorization": f"Bearer {token}"}


_made = 0


def new_case(
    engine: Engine,
    *,
    priority: str = "P1",
    at: datetime = T0,
    address: str | None = None,
    consent_contact: bool = False,
    status: str | None = None,
    **answers: str,
) -> str:
    """Commit a case as a flow's event would (each from a contact of its own, under the cases-per-
    contact limit); returns its reference."""
    global _made
    _made += 1
    given = {
        "U1": "yes",
        "area": "cd-kwilu-kikwit",
        "description": NARRATIVE,
        "safe_time": SAFE_TIME,
        "consent_contact": "yes" if consent_contact else "no",
        **answers,
    }
    event = Event(
        "screening_completed",
        {
            "event_id": f"api-test:{_made}",
            "lang": "fr",
            "answers": given,
            "priority": priority,
            "rule": f"rule for {priority}",
        },
    )
    sink = CasesSink(engine, CIPHER, CATALOGS.gettext, Recorder, clock=lambda: at)
    reference, _ = sink.commit(event, channel="ussd", contact=f"ph_test_{_made}", address=address)
    if status is not None:
        set_status(engine, reference, status)
    return reference


def set_status(engine: Engine, reference: str, status: str) -> None:
    """Put a case in a status directly (to start a test from there)."""
    with Session(engine) as session:
        case = session.exec(select(Case).where(col(Case.reference) == reference)).one()
        case.status = status
        case.close_reason = "resolved" if status == "closed" else None
        session.add(case)
        session.commit()


def load(engine: Engine, reference: str) -> Case:
    """The case as stored now."""
    with Session(engine) as session:
        return session.exec(select(Case).where(col(Case.reference) == reference)).one()


def answers_of(case: Case) -> dict[str, str]:
    """A case's answers, decrypted with the test cipher."""
    return dict(json.loads(CIPHER.decrypt(case.answers or "", "case.answers")))


def add_service(engine: Engine, **fields: Any) -> int:
    """An active shelter in Kikwit (French and Lingala); returns its id."""
    values: dict[str, Any] = {
        "name": "Maison Espoir",
        "organisation": "Caritas Kikwit",
        "service_type": "shelter",
        "areas": "cd-kwilu-kikwit",
        "languages": "fr,ln",
        "phones": "+243 000 000 100",
        **fields,
    }
    with Session(engine) as session:
        service = Service(**values)
        session.add(service)
        session.commit()
        assert service.id is not None
        return service.id


def add_referral(engine: Engine, reference: str, service: str = "Referral target") -> int:
    """A referral in progress of the case to a service of its own; returns its id."""
    service_id = add_service(engine, name=service, organisation=f"for {reference}")
    with Session(engine) as session:
        case = session.exec(select(Case).where(col(Case.reference) == reference)).one()
        assert case.id is not None
        referral = Referral(case_id=case.id, service_id=service_id)
        session.add(referral)
        session.commit()
        assert referral.id is not None
        return referral.id
