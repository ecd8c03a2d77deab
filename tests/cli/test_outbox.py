"""``hotline outbox show``: the last texts queued, for whom by role, never a number; dev only."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session

from bot.core.db import make_engine
from bot.core.migrate import upgrade
from bot.core.privacy import Cipher, new_key
from bot.models import Operator
from bot.outbox import queue
from tests.cli.helpers import run

PHONE = "+243000000001"


@pytest.fixture
def queued(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database with an alert to an operator and a reply to a person."""
    key = new_key()
    url = f"sqlite:///{workdir / 'cli.db'}"
    monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
    monkeypatch.setenv("HOTLINE_ENCRYPTION_KEYS", key)
    monkeypatch.setenv("HOTLINE_SECRETS_FILE", str(workdir / "s.json"))
    engine = make_engine(url)
    cipher = Cipher.from_list([key])
    try:
        upgrade(engine)
        with Session(engine) as session:
            amani = Operator(username="amani", display_name="Amani", role="operator")
            session.add(amani)
            session.flush()
            for key_, contact, purpose, body in (
                ("alert:1:0", f"op_{amani.id}", "alert", "Reply 1 K7QM-46 to acknowledge"),
                ("sms-reply:x", "ph_abc", "reply", "Choose your language:"),
            ):
                queue.enqueue(
                    session,
                    cipher,
                    key=key_,
                    channel="sms",
                    purpose=purpose,
                    contact=contact,
                    recipient=PHONE,
                    body=body,
                    lang="en",
                )
            session.commit()
    finally:
        engine.dispose()


@pytest.mark.usefixtures("queued")
def test_the_last_texts_name_who_by_role_and_never_a_number() -> None:
    result = run("outbox", "show", "--last", "2")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "#1 alert sms to amani [pending]: Reply 1 K7QM-46 to acknowledge",
        "#2 reply sms to person [pending]: Choose your language:",
    ]
    assert PHONE.lstrip("+") not in result.output


@pytest.mark.usefixtures("queued")
def test_it_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_ENV", "production")
    result = run("outbox", "show")
    assert result.exit_code != 0 and "development only" in result.output
