"""The audit log: every decrypting read is recorded with who, which case and why, never what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.core.privacy import Cipher, DecryptError, new_key
from bot.governance import audit
from bot.models import AuditEntry, Case
from tests.conftest import TEST_PHONES, assert_no_phone_numbers, database_text

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
CIPHER = Cipher.from_list([new_key()])
NARRATIVE = "They took our papers at the quarry near the river"


def add_case(engine: Engine) -> int:
    """A case with an encrypted narrative and number."""
    with Session(engine) as session:
        case = Case(
            reference="AUDT-34",
            event_key="test:audit",
            kind="tip",
            channel="sms",
            lang="en",
            priority="P2",
            due_at=T0 + timedelta(days=1),
            consent_contact=True,
            narrative=CIPHER.encrypt(NARRATIVE, "case.narrative"),
            contact_phone=CIPHER.encrypt(TEST_PHONES[0], "case.contact_phone"),
        )
        session.add(case)
        session.commit()
        assert case.id is not None
        return case.id


def entries(engine: Engine) -> list[AuditEntry]:
    """Every audit entry, oldest first."""
    with Session(engine) as session:
        return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all())


def test_record_adds_an_entry_in_the_callers_transaction(engine: Engine) -> None:
    """The entry is committed with the caller's session, with the given fields."""
    with Session(engine) as session:
        audit.record(session, actor="amani", action="view_case", case_id=7, reason="triage", at=T0)
        session.commit()
    [entry] = entries(engine)
    assert (entry.actor, entry.action, entry.case_id, entry.reason) == (
        "amani",
        "view_case",
        7,
        "triage",
    )
    assert entry.at == T0


def test_record_is_lost_with_a_rolled_back_transaction(engine: Engine) -> None:
    """Nothing is written behind the caller's back."""
    with Session(engine) as session:
        audit.record(session, actor="amani", action="view_case")
        session.rollback()
    assert entries(engine) == []


def test_a_long_reason_is_shortened_not_refused(engine: Engine) -> None:
    """The column holds 300 characters (PostgreSQL enforces it); the entry is kept."""
    with Session(engine) as session:
        audit.record(session, actor="amani", action="status", reason="x" * 1000)
        session.commit()
    [entry] = entries(engine)
    assert entry.reason is not None
    assert len(entry.reason) == audit.REASON_MAX
    assert entry.reason.endswith("…")


@pytest.mark.parametrize(
    ("actor", "action"),
    [("", "decrypt"), ("a" * 65, "decrypt"), ("amani", ""), ("amani", "x" * 33)],
)
def test_record_refuses_a_blank_or_oversized_actor_or_action(
    engine: Engine, actor: str, action: str
) -> None:
    """A programming error, not something to store half of."""
    with Session(engine) as session, pytest.raises(ValueError):
        audit.record(session, actor=actor, action=action)


def test_decrypt_for_returns_the_text_and_records_who_which_case_and_why(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """One audit row per read: actor, case, context and reason; no plaintext anywhere."""
    caplog.set_level("DEBUG")
    case_id = add_case(engine)
    with Session(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None and case.narrative and case.contact_phone
        text = audit.decrypt_for(
            session,
            CIPHER,
            case.narrative,
            "case.narrative",
            actor="amani",
            case_id=case_id,
            reason="triage call",
        )
        phone = audit.decrypt_for(
            session,
            CIPHER,
            case.contact_phone,
            "case.contact_phone",
            actor="joseph",
            case_id=case_id,
            reason="call back at the safe time",
        )
        session.commit()
    assert text == NARRATIVE
    assert phone == TEST_PHONES[0]
    first, second = entries(engine)
    assert (first.actor, first.action, first.case_id) == ("amani", "decrypt", case_id)
    assert first.reason == "case.narrative: triage call"
    assert (second.actor, second.action, second.case_id) == ("joseph", "decrypt", case_id)
    assert second.reason == "case.contact_phone: call back at the safe time"
    stored = database_text(engine)
    assert "quarry" not in stored
    assert "quarry" not in caplog.text
    assert_no_phone_numbers(stored, caplog.text)


def test_decrypt_for_records_an_attempt_that_fails(engine: Engine) -> None:
    """A token that does not open (wrong context, other key) is still an audited attempt."""
    case_id = add_case(engine)
    with Session(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None and case.narrative
        with pytest.raises(DecryptError):
            audit.decrypt_for(
                session,
                CIPHER,
                case.narrative,
                "case.answers",
                actor="amani",
                case_id=case_id,
                reason="look",
            )
        session.commit()
    [entry] = entries(engine)
    assert entry.action == "decrypt"
    assert entry.reason == "case.answers: look"


def test_decrypt_for_needs_a_reason(engine: Engine) -> None:
    """No reason, no read, no entry."""
    case_id = add_case(engine)
    with Session(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None and case.narrative
        with pytest.raises(ValueError, match="reason"):
            audit.decrypt_for(
                session,
                CIPHER,
                case.narrative,
                "case.narrative",
                actor="amani",
                case_id=case_id,
                reason="  ",
            )
        session.commit()
    assert entries(engine) == []
