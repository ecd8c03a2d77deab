"""The one-off pass that re-spells stored phone numbers in E.164 (issue 11, item 17)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.cli import main
from bot.core.privacy import Cipher, new_key
from bot.governance.phones import normalise_stored
from bot.models import AuditEntry, Case, Operator
from tests.conftest import TEST_PHONES, assert_no_phone_numbers, database_text

T0 = datetime(2027, 1, 10, 8, 0, tzinfo=UTC)
CIPHER = Cipher.from_list([new_key()])
FICTION = "+447700900123"  # Ofcom's range reserved for drama: no one's number

STORED = {
    "a": ("+00243000000001", TEST_PHONES[0]),  # typed 00243…, kept as +00243… before
    "b": ("+243 000-000-002", TEST_PHONES[1]),  # a caller's spelling
    "c": (TEST_PHONES[2], TEST_PHONES[2]),  # already E.164: untouched
    "d": ("07700 900123", FICTION),  # national, read in the default region
    "e": ("not a number", "not a number"),  # left as it is, counted
}


def add(engine: Engine) -> dict[str, tuple[str | None, str | None]]:
    """Operators and cases holding each spelling; the tokens as stored."""
    tokens: dict[str, tuple[str | None, str | None]] = {}
    with Session(engine) as session:
        for tag, (spelt, _) in STORED.items():
            phone = CIPHER.encrypt(spelt, "operator.phone")
            contact = CIPHER.encrypt(spelt, "case.contact_phone")
            session.add(
                Operator(username=f"op_{tag}", display_name=tag, role="operator", phone=phone)
            )
            session.add(
                Case(
                    reference=f"PH-{tag}",
                    event_key=f"test:{tag}",
                    kind="tip",
                    channel="sms",
                    lang="en",
                    priority="P3",
                    due_at=T0 + timedelta(days=3),
                    consent_contact=True,
                    contact_phone=contact,
                )
            )
            tokens[tag] = (phone, contact)
        session.commit()
    return tokens


def stored(engine: Engine) -> dict[str, tuple[str, str]]:
    with Session(engine) as session:
        operators = {o.username[3:]: o.phone for o in session.exec(select(Operator)).all()}
        cases = {c.reference[3:]: c.contact_phone for c in session.exec(select(Case)).all()}
    return {
        tag: (
            CIPHER.decrypt(operators[tag] or "", "operator.phone"),
            CIPHER.decrypt(cases[tag] or "", "case.contact_phone"),
        )
        for tag in STORED
    }


def test_stored_numbers_are_re_spelt_once_and_the_rest_left(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    before = add(engine)
    report = normalise_stored(engine, CIPHER, region="GB")
    assert report.changed == {"operators.phone": 3, "cases.contact_phone": 3}
    assert report.not_numbers == 2 and report.unreadable == 0
    after = stored(engine)
    assert after == {tag: (want, want) for tag, (_, want) in STORED.items()}
    with Session(engine) as session:
        untouched = session.exec(select(Operator).where(col(Operator.username) == "op_c")).one()
        assert untouched.phone == before["c"][0], "an E.164 number is not rewritten"
        [entry] = session.exec(
            select(AuditEntry).where(col(AuditEntry.action) == "normalise_phones")
        ).all()
        assert entry.reason is not None and entry.reason.startswith("6 re-spelt")
    # A second pass changes nothing.
    again = normalise_stored(engine, CIPHER, region="GB")
    assert sum(again.changed.values()) == 0
    numbers = (*TEST_PHONES, FICTION, "+00243000000001", "07700900123")
    assert_no_phone_numbers(database_text(engine), caplog.text, numbers=numbers)


def test_without_a_region_a_national_number_is_left_as_it_is(engine: Engine) -> None:
    add(engine)
    report = normalise_stored(engine, CIPHER)
    assert report.changed == {"operators.phone": 2, "cases.contact_phone": 2}
    assert report.not_numbers == 4
    assert stored(engine)["d"] == ("07700 900123", "07700 900123")


def test_the_cli_runs_the_pass_in_the_default_region(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> None:
    add(engine)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOTLINE_DATABASE_URL", database_url)
    monkeypatch.setenv("HOTLINE_ENCRYPTION_KEYS", CIPHER.keys[0])
    monkeypatch.setenv("HOTLINE_PSEUDONYM_KEY", "test-pseudonym-key")
    monkeypatch.setenv("HOTLINE_CALLBACK_TOKEN", "test-callback-token")
    monkeypatch.setenv("HOTLINE_SECRETS_FILE", str(tmp_path / "secrets.json"))
    monkeypatch.setenv("HOTLINE_DEFAULT_REGION", "GB")
    result = CliRunner().invoke(main, ["phones", "normalise"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("phone numbers: 6 re-spelt")
    assert stored(engine)["d"] == (FICTION, FICTION)
    assert_no_phone_numbers(result.output, numbers=(*TEST_PHONES, FICTION))
