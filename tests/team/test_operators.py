"""Adding and changing members of the team: the rules, the audit, one active admin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.auth import passwords
from bot.auth.passwords import verify_password
from bot.models import AuditEntry, Operator
from bot.team.operators import (
    InvalidOperator,
    LastAdmin,
    NoSuchOperator,
    UsernameTaken,
    add_operator,
    change_operator,
    deactivate,
    find_operator,
    list_operators,
    reactivate,
    reset_password,
    temporary_password,
)
from tests.api import FAST_HASHER, seed_team
from tests.cases.helpers import CIPHER
from tests.conftest import TEST_PHONES, assert_no_phone_numbers, database_text

NEW_PASSWORD = "a new long password"


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "HASHER", FAST_HASHER)


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session on a database with the test team (amani, lerato, joseph; ada the admin)."""
    seed_team(engine)
    with Session(engine) as session:
        yield session


def audit_reasons(db: Session, action: str) -> list[str | None]:
    entries = db.exec(select(AuditEntry).where(col(AuditEntry.action) == action)).all()
    return [entry.reason for entry in entries]


def add(db: Session, **fields: str | None) -> Operator:
    given: dict[str, str | None] = {
        "username": "Neo",
        "role": "supervisor",
        "display_name": " Neo Mokoena ",
        "password": NEW_PASSWORD,
        "lang": "st",
        "phone": TEST_PHONES[2],
        **fields,
    }
    return add_operator(db, CIPHER, actor="ada", **given)  # type: ignore[arg-type]


def test_an_added_operator_is_stored_safely_and_audited(db: Session, engine: Engine) -> None:
    neo = add(db)
    db.commit()
    assert (neo.username, neo.display_name, neo.role, neo.lang) == (
        "neo",
        "Neo Mokoena",
        "supervisor",
        "st",
    )
    assert CIPHER.decrypt(neo.phone or "", "operator.phone") == TEST_PHONES[2]
    assert (neo.password_hash or "").startswith("$argon2id$")
    assert verify_password(neo.password_hash, NEW_PASSWORD)
    assert audit_reasons(db, "add_operator") == ["neo as supervisor"]
    assert_no_phone_numbers(database_text(engine))
    assert add(db, username="thabo", phone=None).phone is None


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"username": "no spaces please"}, "username", "a username is 2-64 characters"),
        ({"username": "x"}, "username", "a username is 2-64 characters"),
        ({"role": "root"}, "role", "role must be one of operator, supervisor, admin"),
        ({"display_name": "  "}, "name", "a name is 1-120 characters"),
        ({"lang": "de"}, "lang", "lang must be one of en, fr, ln, st"),
        ({"phone": "12"}, "phone", "not a phone number"),
        ({"phone": "+243 12 34"}, "phone", "a phone number has 8 to 15 digits"),
        ({"password": "short"}, "password", "a password needs at least 12 characters"),
    ],
)
def test_a_bad_field_is_named(
    db: Session, change: dict[str, str], field: str, message: str
) -> None:
    with pytest.raises(InvalidOperator, match=message) as refused:
        add(db, **change)
    assert refused.value.field == field
    assert TEST_PHONES[2].lstrip("+") not in str(refused.value)
    assert db.exec(select(Operator).where(col(Operator.username) == "neo")).first() is None


def test_a_username_is_taken_in_any_case(db: Session) -> None:
    with pytest.raises(UsernameTaken, match="the username amani is taken"):
        add(db, username=" AMANI ")


def test_find_and_list(db: Session) -> None:
    assert find_operator(db, " Joseph ").role == "supervisor"
    with pytest.raises(NoSuchOperator, match="no operator 'ghost'"):
        find_operator(db, "ghost")
    assert [o.username for o in list_operators(db)] == ["ada", "amani", "joseph", "lerato"]


def test_changes_are_applied_and_audited(db: Session) -> None:
    amani = find_operator(db, "amani")
    changes = change_operator(
        db,
        amani,
        actor="ada",
        role="supervisor",
        password=NEW_PASSWORD,
        lang="en",
        display_name="Amani K.",
        phone=TEST_PHONES[0],
        cipher=CIPHER,
    )
    db.commit()
    assert changes == ["password", "role supervisor", "lang en", "name", "phone"]
    assert (amani.role, amani.lang, amani.display_name) == ("supervisor", "en", "Amani K.")
    assert verify_password(amani.password_hash, NEW_PASSWORD)
    assert change_operator(db, amani, actor="ada", role="supervisor", active=True) == []
    assert change_operator(db, amani, actor="ada", phone="", cipher=CIPHER) == ["phone removed"]
    assert amani.phone is None
    assert audit_reasons(db, "change_operator") == [
        "amani: password, role supervisor, lang en, name, phone",
        "amani: phone removed",
    ]


def test_a_bad_change_changes_nothing(db: Session) -> None:
    amani = find_operator(db, "amani")
    before = amani.password_hash
    with pytest.raises(InvalidOperator) as refused:
        change_operator(db, amani, actor="ada", role="root", password=NEW_PASSWORD)
    assert refused.value.field == "role"
    with pytest.raises(InvalidOperator, match="at least 12"):
        change_operator(db, amani, actor="ada", role="admin", password="short")
    assert (amani.role, amani.password_hash) == ("operator", before)
    with pytest.raises(ValueError, match="cipher"):
        change_operator(db, amani, actor="ada", phone=TEST_PHONES[0])


def test_the_last_active_admin_stays(db: Session) -> None:
    ada = find_operator(db, "ada")
    with pytest.raises(LastAdmin, match="the team needs one active admin"):
        deactivate(db, ada, actor="ada")
    with pytest.raises(LastAdmin):
        change_operator(db, ada, actor="ada", role="operator")
    assert (ada.role, ada.active) == ("admin", True)
    joseph = find_operator(db, "joseph")
    change_operator(db, joseph, actor="ada", role="admin")
    assert deactivate(db, ada, actor="joseph") == ["deactivated"]
    with pytest.raises(LastAdmin):
        change_operator(db, joseph, actor="joseph", role="supervisor")
    # changing someone who is not an admin never needs another admin
    assert change_operator(db, find_operator(db, "amani"), actor="joseph", active=False) == [
        "deactivated"
    ]


def test_a_password_reset_ends_sessions_and_is_shown_once(
    db: Session, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    amani = find_operator(db, "amani")
    epoch = amani.session_epoch
    temporary = reset_password(db, amani, actor="ada")
    db.commit()
    assert len(temporary) == 16 and verify_password(amani.password_hash, temporary)
    assert amani.session_epoch == epoch + 1
    typed = reset_password(db, amani, actor="ada", password=NEW_PASSWORD)
    assert typed == NEW_PASSWORD and verify_password(amani.password_hash, NEW_PASSWORD)
    assert amani.session_epoch == epoch + 2
    with pytest.raises(InvalidOperator, match="at least 12"):
        reset_password(db, amani, actor="ada", password="short")
    db.commit()
    assert audit_reasons(db, "change_operator") == ["amani: password", "amani: password"]
    stored = database_text(engine) + caplog.text
    assert temporary not in stored and NEW_PASSWORD not in stored


def test_temporary_passwords_pass_the_rules_and_differ() -> None:
    made = {temporary_password() for _ in range(20)}
    assert len(made) == 20
    for password in made:
        passwords.check_password_rules(password)


def test_reactivating_revives_no_session(db: Session) -> None:
    amani = find_operator(db, "amani")
    epoch = amani.session_epoch
    deactivate(db, amani, actor="ada")
    assert reactivate(db, amani, actor="ada") == ["active"]
    assert amani.active and amani.session_epoch == epoch + 1
