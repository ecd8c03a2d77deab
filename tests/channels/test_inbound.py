"""Inbound messages on SQLite and PostgreSQL: a provider retry is dropped, a flood is dropped."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels.inbound import CLAIM, Verdict, accept
from bot.core.clock import utcnow
from bot.core.privacy import Cipher, new_key, pseudonym
from bot.models import InboundMessage
from bot.outbox import queue
from tests.conftest import TEST_PHONES, assert_no_phone_numbers, database_text

KEY = "k" * 32
CONTACT = pseudonym(KEY, "phone", TEST_PHONES[0])
OTHER = pseudonym(KEY, "phone", TEST_PHONES[1])


def rows(engine: Engine) -> list[InboundMessage]:
    with Session(engine) as session:
        return list(session.exec(select(InboundMessage).order_by(InboundMessage.id)).all())  # type: ignore[arg-type]


def test_a_message_is_new_once_and_a_retry_is_a_duplicate(engine: Engine) -> None:
    def once() -> Verdict:
        return accept(engine, channel="sms", provider_id="ATXid_1", contact=CONTACT, hourly_limit=5)

    assert once() == "new"
    assert once() == "duplicate"
    assert once() == "duplicate"
    [row] = rows(engine)
    assert row.provider_id == "ATXid_1" and row.contact == CONTACT and not row.dropped
    assert row.received_at.tzinfo is not None


def test_provider_ids_are_per_channel(engine: Engine) -> None:
    common = {"provider_id": "42", "contact": CONTACT, "hourly_limit": 5}
    assert accept(engine, channel="sms", **common) == "new"  # type: ignore[arg-type]
    assert accept(engine, channel="telegram", **common) == "new"  # type: ignore[arg-type]
    assert len(rows(engine)) == 2


def test_a_flood_is_dropped_until_the_hour_has_passed(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    start = utcnow()
    verdicts = [
        accept(
            engine,
            channel="sms",
            provider_id=f"ATXid_{n}",
            contact=CONTACT,
            hourly_limit=3,
            now=start + timedelta(minutes=n),
        )
        for n in range(5)
    ]
    assert verdicts == ["new", "new", "new", "flood", "flood"]
    # Someone else is not held back by this contact's flood.
    assert (
        accept(engine, channel="sms", provider_id="o1", contact=OTHER, hourly_limit=3, now=start)
        == "new"
    )
    # A retry of a dropped message is still a duplicate, not a second flood.
    assert (
        accept(
            engine,
            channel="sms",
            provider_id="ATXid_3",
            contact=CONTACT,
            hourly_limit=3,
            now=start + timedelta(minutes=6),
        )
        == "duplicate"
    )
    dropped = [r.provider_id for r in rows(engine) if r.dropped]
    assert dropped == ["ATXid_3", "ATXid_4"]
    assert "sms flood from" in caplog.text and "dropped without reply" in caplog.text
    # An hour after the last message the contact is heard again.
    later = start + timedelta(minutes=4, hours=1, seconds=1)
    assert (
        accept(
            engine, channel="sms", provider_id="ATXid_9", contact=CONTACT, hourly_limit=3, now=later
        )
        == "new"
    )
    assert_no_phone_numbers(caplog.text, database_text(engine))
    assert CONTACT not in caplog.text, "only a short prefix of the pseudonym is logged"


def test_the_flood_window_slides(engine: Engine) -> None:
    start = utcnow()

    def at(n: int, minutes: float) -> Verdict:
        return accept(
            engine,
            channel="sms",
            provider_id=f"w{n}",
            contact=CONTACT,
            hourly_limit=2,
            now=start + timedelta(minutes=minutes),
        )

    assert [at(1, 0), at(2, 30)] == ["new", "new"]
    assert at(3, 59) == "flood"
    # At 61 minutes the first message has left the window, but the dropped one has not:
    # a contact who keeps flooding stays limited.
    assert at(4, 61) == "flood"
    assert at(5, 120) == "new"


def test_the_same_message_posted_concurrently_is_new_once(engine: Engine) -> None:
    verdicts: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def post() -> None:
        try:
            barrier.wait(timeout=10)
            verdicts.append(
                accept(engine, channel="sms", provider_id="same", contact=CONTACT, hourly_limit=20)
            )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert Counter(verdicts) == {"new": 1, "duplicate": 5}
    assert len(rows(engine)) == 1


def test_nothing_but_the_pseudonym_is_kept(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        accept(engine, channel="sms", provider_id="p", contact=CONTACT, hourly_limit=1)
        accept(engine, channel="sms", provider_id="p", contact=CONTACT, hourly_limit=1)
    assert "retry ignored" in caplog.text
    assert_no_phone_numbers(database_text(engine), caplog.text)


def test_with_an_answer_key_a_copy_is_busy_until_answered_or_its_claim_lapses(
    engine: Engine,
) -> None:
    """Seen for good only once the reply exists; a handler that died leaves a claim that lapses."""
    start = utcnow()

    def copy(seconds: float) -> Verdict:
        return accept(
            engine,
            channel="sms",
            provider_id="ATXid_k1",
            contact=CONTACT,
            hourly_limit=20,
            answer_key="sms-reply:ATXid_k1",
            now=start + timedelta(seconds=seconds),
        )

    assert copy(0) == "new"
    assert copy(5) == "busy", "the first copy is being handled"
    assert copy(CLAIM.total_seconds() + 1) == "new", "its handler stopped: taken over"
    assert copy(CLAIM.total_seconds() + 2) == "busy"
    with Session(engine) as session:
        queue.enqueue(
            session,
            Cipher((new_key(),)),
            key="sms-reply:ATXid_k1",
            channel="sms",
            purpose="reply",
            contact=CONTACT,
            recipient=TEST_PHONES[0],
            body="menu",
            lang="en",
        )
        session.commit()
    assert copy(CLAIM.total_seconds() + 3) == "duplicate"
    assert copy(3600) == "duplicate"
    assert len(rows(engine)) == 1


def test_with_an_answer_key_a_dropped_flood_copy_stays_a_duplicate(engine: Engine) -> None:
    common = {"channel": "sms", "contact": CONTACT, "hourly_limit": 1}
    assert accept(engine, provider_id="a", answer_key="sms-reply:a", **common) == "new"  # type: ignore[arg-type]
    assert accept(engine, provider_id="b", answer_key="sms-reply:b", **common) == "flood"  # type: ignore[arg-type]
    later = utcnow() + timedelta(minutes=5)
    again = accept(engine, provider_id="b", answer_key="sms-reply:b", now=later, **common)  # type: ignore[arg-type]
    assert again == "duplicate"
