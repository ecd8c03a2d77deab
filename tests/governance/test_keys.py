"""Key rotation: everything ends under the newest key, the old key can go, nothing is lost."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.cli import main
from bot.core.privacy import Cipher, DecryptError, key_id, new_key
from bot.governance import keys
from bot.governance.keys import COLUMNS, RotateReport, Unreadable, rotate
from bot.governance.retention import PURGED_BODY
from bot.models import AuditEntry, Case, CaseNote, Operator, OutboundMessage
from tests.conftest import TEST_PHONES, assert_no_phone_numbers, database_text

T0 = datetime(2027, 1, 10, 8, 0, tzinfo=UTC)
KEY_A, KEY_B, KEY_C = new_key(), new_key(), new_key()
OLD = Cipher.from_list([KEY_A])
RING = Cipher.from_list([KEY_B, KEY_A])
NEW_ONLY = Cipher.from_list([KEY_B])
COLUMN_NAMES = [c.name for c in COLUMNS]


def add_rows(engine: Engine, cipher: Cipher, n: int, *, tag: str) -> None:
    """``n`` rows of every table with encrypted columns, all of them filled, under ``cipher``."""
    enc = cipher.encrypt
    with Session(engine) as session:
        for i in range(n):
            name = f"{tag}{i}"
            phone = TEST_PHONES[i % len(TEST_PHONES)]
            operator = Operator(
                username=f"op_{name}",
                display_name=name,
                role="operator",
                phone=enc(phone, "operator.phone"),
                telegram_chat=enc(f"70000000{i}", "operator.telegram_chat"),
            )
            case = Case(
                reference=f"K{name}"[:12],
                event_key=f"test:{name}",
                kind="tip",
                channel="sms",
                lang="en",
                priority="P3",
                due_at=T0 + timedelta(days=3),
                consent_contact=True,
                answers=enc(f"{name} answers", "case.answers"),
                safe_time=enc(f"{name} safe time", "case.safe_time"),
                contact_phone=enc(phone, "case.contact_phone"),
                narrative=enc(f"{name} narrative", "case.narrative"),
            )
            session.add(operator)
            session.add(case)
            session.flush()
            assert case.id is not None
            session.add(CaseNote(case_id=case.id, body=enc(f"{name} note", "case_note.body")))
            session.add(
                OutboundMessage(
                    key=f"test:{name}",
                    channel="sms",
                    purpose="reply",
                    contact=f"ph_{name}",
                    recipient=enc(phone, "outbox.recipient"),
                    body=enc(f"{name} body", "outbox.body"),
                    lang="en",
                )
            )
        session.commit()


def add_empty_rows(engine: Engine) -> None:
    """Rows whose encrypted columns are empty or purged: nothing to rotate, nothing to report."""
    with Session(engine) as session:
        session.add(Operator(username="nophone", display_name="No phone", role="admin"))
        session.add(
            Case(
                reference="EMPT-33",
                event_key="test:empty",
                kind="tip",
                channel="ussd",
                lang="en",
                priority="P4",
                due_at=T0,
            )
        )
        session.add(
            OutboundMessage(
                key="test:purged",
                channel="sms",
                purpose="reply",
                contact="ph_purged",
                body=PURGED_BODY,
                lang="en",
                status="sent",
            )
        )
        session.commit()


def tokens(engine: Engine) -> dict[tuple[str, int], str | None]:
    """Every value of every encrypted column, by (``table.column``, id)."""
    found: dict[tuple[str, int], str | None] = {}
    with engine.connect() as connection:
        for spec in COLUMNS:
            query = text(f'SELECT id, "{spec.column}" FROM "{spec.model.__tablename__}"')  # noqa: S608
            for row_id, token in connection.execute(query):
                found[(spec.name, row_id)] = token
    return found


def plaintexts(engine: Engine, cipher: Cipher) -> dict[tuple[str, int], str]:
    """Every encrypted value decrypted with ``cipher`` (fails on any it cannot open)."""
    contexts = {c.name: c.context for c in COLUMNS}
    return {
        where: cipher.decrypt(token, contexts[where[0]])
        for where, token in tokens(engine).items()
        if token is not None and token != PURGED_BODY
    }


def audit_entries(engine: Engine) -> list[AuditEntry]:
    """Every audit entry, oldest first."""
    with Session(engine) as session:
        return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all())


def test_rotation_puts_everything_under_the_newest_key(engine: Engine) -> None:
    """Ring [B, A] → rotate → every token is B's, ring [B] alone opens every column."""
    add_rows(engine, OLD, 5, tag="a")
    add_empty_rows(engine)
    before = plaintexts(engine, OLD)

    report = rotate(engine, RING, batch=2)  # several batches per column

    assert report.key == key_id(KEY_B)
    assert report.rotated == dict.fromkeys(COLUMN_NAMES, 5)
    assert report.total == 5 * len(COLUMNS)
    assert report.unreadable == []
    stored = tokens(engine)
    assert all(RING.is_current(t) for t in stored.values() if t and t != PURGED_BODY)
    assert plaintexts(engine, NEW_ONLY) == before
    with pytest.raises(DecryptError):
        plaintexts(engine, OLD)
    assert stored[("outbox.body", 6)] == PURGED_BODY  # the purged marker is left alone
    assert_no_phone_numbers(database_text(engine))


def test_only_tokens_of_older_keys_are_rewritten(engine: Engine) -> None:
    """Rows already under the newest key keep their exact token; the count says what moved."""
    add_rows(engine, OLD, 2, tag="a")
    add_rows(engine, NEW_ONLY, 3, tag="b")
    current = {w: t for w, t in tokens(engine).items() if t and NEW_ONLY.is_current(t)}
    assert len(current) == 3 * len(COLUMNS)

    report = rotate(engine, RING)

    assert report.rotated == dict.fromkeys(COLUMN_NAMES, 2)
    after = tokens(engine)
    assert {w: after[w] for w in current} == current


def test_a_token_no_key_opens_is_reported_not_fatal_and_kept(engine: Engine) -> None:
    """Unknown key or altered token: named by table, column and id, left as it was."""
    add_rows(engine, OLD, 3, tag="a")
    foreign = Cipher.from_list([KEY_C]).encrypt("written with a lost key", "case.narrative")
    good = OLD.encrypt("a note", "case_note.body")
    altered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    with Session(engine) as session:
        case = session.get(Case, 2)
        note = session.get(CaseNote, 3)
        assert case is not None and note is not None
        case.narrative = foreign
        note.body = altered
        session.add(case)
        session.add(note)
        session.commit()

    report = rotate(engine, RING, batch=1)

    assert sorted(report.unreadable, key=str) == [
        Unreadable("case_notes", "body", 3),
        Unreadable("cases", "narrative", 2),
    ]
    assert str(report.unreadable[0]) in {"cases.narrative id=2", "case_notes.body id=3"}
    assert report.rotated["cases.narrative"] == 2
    assert report.rotated["case_notes.body"] == 2
    assert report.rotated["cases.answers"] == 3
    stored = tokens(engine)
    assert stored[("cases.narrative", 2)] == foreign
    assert stored[("case_notes.body", 3)] == altered
    assert "lost key" not in report.summary()


def test_rotation_is_audited_without_content(engine: Engine) -> None:
    """One ``rotate_keys`` entry with the counts; no id list, no plaintext, no key."""
    add_rows(engine, OLD, 2, tag="a")
    rotate(engine, RING)
    [entry] = audit_entries(engine)
    assert (entry.actor, entry.action, entry.case_id) == ("system", "rotate_keys", None)
    assert entry.reason is not None
    assert entry.reason.startswith(f"to key {key_id(KEY_B)}: {2 * len(COLUMNS)} rotated")
    assert entry.reason.endswith("; 0 unreadable")
    assert "cases.narrative=2" in entry.reason
    for secret in (KEY_A, KEY_B, "narrative", "a0"):
        assert f" {secret} " not in f" {entry.reason} "
    assert len(entry.reason) <= 300


def test_a_second_rotation_rotates_nothing(engine: Engine) -> None:
    """Idempotent: everything is current, so nothing is rewritten (the run is still audited)."""
    add_rows(engine, OLD, 3, tag="a")
    rotate(engine, RING)
    before = tokens(engine)

    again = rotate(engine, RING)

    assert again.total == 0
    assert again.rotated == dict.fromkeys(COLUMN_NAMES, 0)
    assert tokens(engine) == before
    assert [e.action for e in audit_entries(engine)] == ["rotate_keys", "rotate_keys"]
    assert (
        audit_entries(engine)[-1].reason
        == f"to key {key_id(KEY_B)}: 0 rotated (none); 0 unreadable"
    )


def test_a_value_changed_meanwhile_is_not_overwritten(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compare-and-set: a row edited between read and write keeps the edit."""
    add_rows(engine, OLD, 1, tag="a")
    edited = NEW_ONLY.encrypt("edited by an operator", "case.narrative")
    real_decrypt = Cipher.decrypt

    def decrypt_while_someone_edits(self: Cipher, token: str, context: str) -> str:
        if context == "case.narrative":
            with Session(engine) as session:
                case = session.get(Case, 1)
                assert case is not None
                case.narrative = edited
                session.add(case)
                session.commit()
        return real_decrypt(self, token, context)

    monkeypatch.setattr(Cipher, "decrypt", decrypt_while_someone_edits)
    report = rotate(engine, RING)
    assert report.rotated["cases.narrative"] == 0
    assert tokens(engine)[("cases.narrative", 1)] == edited


def test_rotate_refuses_a_zero_batch(engine: Engine) -> None:
    """A batch of 0 would never advance."""
    with pytest.raises(ValueError):
        rotate(engine, RING, batch=0)


def test_every_encrypted_column_of_the_schema_is_rotated() -> None:
    """A new encrypted column must be added to COLUMNS (the contexts the code uses)."""
    assert {(c.name, c.context) for c in COLUMNS} == {
        ("outbox.recipient", "outbox.recipient"),
        ("outbox.body", "outbox.body"),
        ("cases.answers", "case.answers"),
        ("cases.safe_time", "case.safe_time"),
        ("cases.contact_phone", "case.contact_phone"),
        ("cases.narrative", "case.narrative"),
        ("case_notes.body", "case_note.body"),
        ("operators.phone", "operator.phone"),
        ("operators.telegram_chat", "operator.telegram_chat"),
    }
    assert keys.BATCH == 500


# --- hotline keys -------------------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Iterator[Path]:
    """The CLI's environment: the test database, ring [B, A], secrets kept in tmp_path."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOTLINE_DATABASE_URL", database_url)
    monkeypatch.setenv("HOTLINE_ENCRYPTION_KEYS", f"{KEY_B}, {KEY_A}")
    monkeypatch.setenv("HOTLINE_PSEUDONYM_KEY", "test-pseudonym-key")
    monkeypatch.setenv("HOTLINE_CALLBACK_TOKEN", "test-callback-token")
    monkeypatch.setenv("HOTLINE_SECRETS_FILE", str(tmp_path / "secrets.json"))
    yield tmp_path


def test_cli_keys_new_prints_a_fresh_usable_key(cli_env: Path) -> None:
    """One key per line on stdout (scriptable), the how-to on stderr."""
    first = CliRunner().invoke(main, ["keys", "new"])
    second = CliRunner().invoke(main, ["keys", "new"])
    assert first.exit_code == 0, first.output
    key = first.stdout.strip()
    assert "\n" not in key
    assert key != second.stdout.strip()
    cipher = Cipher.from_list([key])
    assert cipher.decrypt(cipher.encrypt("x", "t"), "t") == "x"
    assert "HOTLINE_ENCRYPTION_KEYS" in first.stderr


def test_cli_keys_rotate_rotates_with_the_configured_ring(engine: Engine, cli_env: Path) -> None:
    """``hotline keys rotate``: counts per column; afterwards key B alone opens everything."""
    add_rows(engine, OLD, 2, tag="a")
    before = plaintexts(engine, OLD)
    result = CliRunner().invoke(main, ["keys", "rotate", "--batch", "1"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"rotated {2 * len(COLUMNS)} value(s) to key {key_id(KEY_B)}:")
    for name in COLUMN_NAMES:
        assert f"  {name}: 2\n" in result.stdout
    assert plaintexts(engine, NEW_ONLY) == before
    assert_no_phone_numbers(result.output, database_text(engine))
    again = CliRunner().invoke(main, ["keys", "rotate"])
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("rotated 0 value(s)")


def test_cli_keys_rotate_names_unreadable_values_and_fails(engine: Engine, cli_env: Path) -> None:
    """Exit 1 listing table, column and id (never content); the rest is rotated."""
    add_rows(engine, OLD, 1, tag="a")
    with Session(engine) as session:
        operator = session.get(Operator, 1)
        assert operator is not None
        operator.phone = Cipher.from_list([KEY_C]).encrypt(TEST_PHONES[1], "operator.phone")
        session.add(operator)
        session.commit()
    result = CliRunner().invoke(main, ["keys", "rotate"])
    assert result.exit_code == 1
    assert "no configured key opens operators.phone id=1" in result.stderr
    assert "1 value(s) no configured key opens" in result.stderr
    assert f"rotated {len(COLUMNS) - 1} value(s)" in result.stdout
    assert_no_phone_numbers(result.output)


def test_cli_keys_rotate_refuses_a_malformed_key(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key that is not 32 bytes of base64 is named as the problem, not a traceback."""
    monkeypatch.setenv("HOTLINE_ENCRYPTION_KEYS", "not-a-key")
    result = CliRunner().invoke(main, ["keys", "rotate"])
    assert result.exit_code == 1
    assert "HOTLINE_ENCRYPTION_KEYS" in result.output


def test_rotate_report_summary_is_short(engine: Engine) -> None:
    """The audit reason fits its column whatever the counts."""
    report = RotateReport(key="abcdef12")
    report.rotated.update(dict.fromkeys(COLUMN_NAMES, 10**9))
    report.unreadable.extend(Unreadable("cases", "narrative", i) for i in range(10**4))
    assert len(report.summary()) <= 300
