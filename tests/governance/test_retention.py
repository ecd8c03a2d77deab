"""Retention: exactly what is cleared, anonymised and deleted, and what is kept (both databases)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.cases import commands
from bot.cli import main
from bot.core.clock import utcnow
from bot.core.privacy import Cipher, new_key, pseudonym
from bot.governance.keys import COLUMNS
from bot.governance.retention import PURGED_BODY, PurgeReport, purge
from bot.jobs import purge as purge_jobs
from bot.models import (
    AuditEntry,
    Case,
    CaseEvent,
    CaseNote,
    InboundMessage,
    Operator,
    OutboundMessage,
    PartnerCode,
    Referral,
    Service,
)
from tests.conftest import TEST_PHONES, assert_no_phone_numbers, database_text

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
CIPHER = Cipher.from_list([new_key()])
PSEUDONYM_KEY = "test-pseudonym-key"
GONE = TEST_PHONES[:2]  # numbers only ever stored where retention removes them
KEPT = TEST_PHONES[2]  # the number of cases and messages still within their period


def days(n: float) -> timedelta:
    """``n`` days."""
    return timedelta(days=n)


def add_case(
    session: Session,
    name: str,
    *,
    created: datetime,
    consent: bool = False,
    closed: datetime | None = None,
    phone: str | None = None,
    notes: int = 0,
) -> int:
    """A case with every sensitive field filled (plaintexts name the case: ``name: narrative``)."""
    enc = CIPHER.encrypt
    case = Case(
        reference=name.upper()[:12],
        event_key=f"test:{name}",
        kind="tip",
        channel="sms",
        lang="fr",
        area="cd-kwilu-kikwit",
        exploitation_type="forced_labour",
        people_affected=3,
        age_band="18-25",
        minor=False,
        answers=enc(f'{{"case": "{name}: answers"}}', "case.answers"),
        rule="r_forced_labour",
        priority="P2",
        consent_contact=consent,
        safe_time=enc(f"{name}: safe time", "case.safe_time"),
        contact=pseudonym(PSEUDONYM_KEY, "phone", phone or TEST_PHONES[0]),
        contact_phone=enc(phone, "case.contact_phone") if phone else None,
        narrative=enc(f"{name}: narrative", "case.narrative"),
        status="closed" if closed else "active",
        close_reason="resolved" if closed else None,
        due_at=created + days(1),
        created_at=created,
        updated_at=closed or created,
        closed_at=closed,
    )
    session.add(case)
    session.flush()
    assert case.id is not None
    for n in range(notes):
        session.add(
            CaseNote(
                case_id=case.id,
                body=enc(f"{name}: note {n}", "case_note.body"),
                created_at=created,
            )
        )
    return case.id


def add_message(
    session: Session, name: str, *, created: datetime, status: str, recipient: str | None
) -> int:
    """An outbox row (``recipient`` None: already wiped after sending)."""
    message = OutboundMessage(
        key=f"test:{name}",
        channel="sms",
        purpose="reply",
        contact=pseudonym(PSEUDONYM_KEY, "phone", recipient or TEST_PHONES[0]),
        recipient=CIPHER.encrypt(recipient, "outbox.recipient") if recipient else None,
        body=CIPHER.encrypt(f"{name}: body", "outbox.body"),
        lang="fr",
        status=status,
        next_attempt_at=created,
        created_at=created,
    )
    session.add(message)
    session.flush()
    assert message.id is not None
    return message.id


@dataclass
class World:
    """Ids of the rows built by ``build``."""

    cases: dict[str, int]
    messages: dict[str, int]


def build(engine: Engine, now: datetime = NOW) -> World:
    """Cases, notes, outbox and inbound rows of every age and consent that matter."""
    with Session(engine) as session:
        cases = {
            # no consent to be contacted
            "fresh_anon": add_case(session, "fresh_anon", created=now - days(29)),
            "old_anon": add_case(
                session, "old_anon", created=now - days(31), phone=GONE[0], notes=1
            ),
            "closed_anon": add_case(
                session, "closed_anon", created=now - days(800), closed=now - days(729)
            ),
            "ancient_anon": add_case(
                session,
                "ancient_anon",
                created=now - days(900),
                closed=now - days(731),
                phone=GONE[0],
                notes=1,
            ),
            # consent to be contacted
            "open_ok": add_case(
                session, "open_ok", created=now - days(400), consent=True, phone=KEPT, notes=1
            ),
            "closed_ok": add_case(
                session,
                "closed_ok",
                created=now - days(60),
                consent=True,
                closed=now - days(29),
                phone=KEPT,
            ),
            "done_ok": add_case(
                session,
                "done_ok",
                created=now - days(90),
                consent=True,
                closed=now - days(31),
                phone=GONE[1],
            ),
            "ancient_ok": add_case(
                session,
                "ancient_ok",
                created=now - days(1000),
                consent=True,
                closed=now - days(800),
                phone=GONE[1],
                notes=2,
            ),
        }
        messages = {
            "sent_old": add_message(
                session, "sent_old", created=now - days(31), status="sent", recipient=None
            ),
            "stuck_old": add_message(
                session, "stuck_old", created=now - days(40), status="pending", recipient=GONE[0]
            ),
            "pending_new": add_message(
                session, "pending_new", created=now - days(1), status="pending", recipient=KEPT
            ),
        }
        for name, age in [("in_old", 31), ("in_older", 400), ("in_new", 29)]:
            session.add(
                InboundMessage(
                    channel="sms",
                    provider_id=name,
                    contact=pseudonym(PSEUDONYM_KEY, "phone", TEST_PHONES[0]),
                    received_at=now - days(age),
                )
            )
        session.commit()
    return World(cases, messages)


EXPECTED = PurgeReport(
    contacts_cleared=2,  # old_anon, closed_anon
    numbers_cleared=1,  # done_ok
    cases_anonymised=2,  # ancient_anon, ancient_ok
    notes_deleted=3,
    outbox_cleared=2,  # sent_old, stuck_old
    outbox_expired=1,  # stuck_old
    inbound_deleted=2,
)

STATISTICS = (
    "reference",
    "kind",
    "channel",
    "lang",
    "area",
    "exploitation_type",
    "people_affected",
    "age_band",
    "minor",
    "rule",
    "priority",
    "consent_contact",
    "status",
    "close_reason",
    "due_at",
    "created_at",
    "closed_at",
)
"""What an anonymised case keeps, for statistics."""


def cases(engine: Engine) -> dict[str, Case]:
    """Every case by its event key's name."""
    with Session(engine) as session:
        return {c.event_key.split(":", 1)[1]: c for c in session.exec(select(Case)).all()}


def plaintexts(engine: Engine) -> str:
    """Everything still stored encrypted, decrypted (to prove what is gone, not just hidden)."""
    found: list[str] = []
    with engine.connect() as connection:
        for spec in COLUMNS:
            table = spec.model.__tablename__
            query = text(f'SELECT "{spec.column}" FROM "{table}"')  # noqa: S608
            for (token,) in connection.execute(query):
                if token is not None and token != PURGED_BODY:
                    found.append(CIPHER.decrypt(token, spec.context))
    return "\n".join(found)


def snapshot(engine: Engine, *, skip: tuple[str, ...] = ()) -> dict[str, list[tuple[str, ...]]]:
    """Every table's rows as sorted text (order-independent), to prove nothing changed."""
    found: dict[str, list[tuple[str, ...]]] = {}
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            if table in skip:
                continue
            rows = connection.execute(text(f'SELECT * FROM "{table}"'))  # noqa: S608
            found[table] = sorted(tuple(str(v) for v in row) for row in rows)
    return found


def audit_entries(engine: Engine) -> list[AuditEntry]:
    """Every audit entry, oldest first."""
    with Session(engine) as session:
        return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all())


# --- purge ------------------------------------------------------------------------------


def test_purge_clears_exactly_what_retention_says(engine: Engine) -> None:
    """Each kind of row loses what it must and keeps the rest."""
    world = build(engine)
    before = cases(engine)

    report = purge(engine, now=NOW)

    assert report == EXPECTED
    after = cases(engine)
    # Within 30 days, or with consent and still open or recently closed: untouched.
    for name in ("fresh_anon", "open_ok", "closed_ok"):
        assert after[name].model_dump() == before[name].model_dump(), name
    # No consent, older than 30 days: pseudonym, number and safe time gone; the report stays.
    for name in ("old_anon", "closed_anon"):
        case = after[name]
        assert (case.contact, case.contact_phone, case.safe_time) == (None, None, None), name
        assert case.narrative == before[name].narrative
        assert case.answers == before[name].answers
        assert case.anonymised_at is None
    # Consent, closed over 30 days ago: the number and safe time go, the pseudonym stays.
    done = after["done_ok"]
    assert (done.contact_phone, done.safe_time) == (None, None)
    assert done.contact == before["done_ok"].contact
    assert done.narrative == before["done_ok"].narrative
    # Closed over two years ago: anonymised, whatever the consent; statistics fields stay.
    for name in ("ancient_anon", "ancient_ok"):
        case, was = after[name], before[name]
        assert (case.narrative, case.answers, case.contact, case.contact_phone) == (None,) * 4
        assert case.safe_time is None
        assert case.anonymised_at == NOW
        for field in STATISTICS:
            assert getattr(case, field) == getattr(was, field), (name, field)
    with Session(engine) as session:
        notes = session.exec(select(CaseNote.case_id)).all()
        assert sorted(notes) == sorted([world.cases["old_anon"], world.cases["open_ok"]])
        events = session.exec(
            select(CaseEvent.case_id, CaseEvent.actor, CaseEvent.detail).where(
                CaseEvent.kind == "retention"
            )
        ).all()
        assert {e[0] for e in events} == {
            world.cases[n]
            for n in ("old_anon", "closed_anon", "done_ok", "ancient_anon", "ancient_ok")
        }
        assert {e[1] for e in events} == {"system"}
        messages = {m.id: m for m in session.exec(select(OutboundMessage)).all()}
        inbound = session.exec(select(InboundMessage.provider_id)).all()
    for name in ("sent_old", "stuck_old"):
        message = messages[world.messages[name]]
        assert message.recipient is None
        assert message.body == PURGED_BODY
    assert messages[world.messages["sent_old"]].status == "sent"
    stuck = messages[world.messages["stuck_old"]]
    assert stuck.status == "failed"
    assert stuck.last_error is not None and stuck.last_error.startswith("expired")
    fresh = messages[world.messages["pending_new"]]
    assert fresh.status == "pending" and fresh.recipient is not None
    assert CIPHER.decrypt(fresh.body, "outbox.body") == "pending_new: body"
    assert inbound == ["in_new"]

    # What is gone is gone, not just hidden: not even an encrypted copy is left.
    remaining = plaintexts(engine)
    stored = database_text(engine)
    assert_no_phone_numbers(stored)
    assert_no_phone_numbers(remaining, numbers=GONE)
    assert KEPT in remaining
    for gone in ("ancient_anon:", "ancient_ok:", "old_anon: safe time", "done_ok: safe time"):
        assert gone not in remaining
    for kept_text in ("old_anon: narrative", "old_anon: note 0", "open_ok: safe time"):
        assert kept_text in remaining


def test_purge_writes_one_audit_entry_with_the_counts(engine: Engine) -> None:
    """Actor ``system``, action ``purge``, the counts in the reason, no content."""
    build(engine)
    purge(engine, now=NOW)
    [entry] = audit_entries(engine)
    assert (entry.actor, entry.action, entry.case_id) == ("system", "purge", None)
    assert entry.at == NOW
    assert entry.reason == EXPECTED.summary()
    assert "contacts_cleared=2" in entry.reason
    assert "cases_anonymised=2" in entry.reason


def test_a_second_purge_changes_nothing(engine: Engine) -> None:
    """Idempotent: nothing is left to clear, so only the run itself is audited."""
    build(engine)
    purge(engine, now=NOW)
    before = snapshot(engine, skip=("audit_log",))

    again = purge(engine, now=NOW)

    assert again == PurgeReport()
    assert again.total == 0
    assert snapshot(engine, skip=("audit_log",)) == before
    _, second = audit_entries(engine)
    assert second.reason == PurgeReport().summary()


def test_a_dry_run_counts_and_changes_nothing(engine: Engine) -> None:
    """The same counts as the real run, no change, no audit entry."""
    build(engine)
    before = snapshot(engine)

    dry = purge(engine, now=NOW, dry_run=True)

    assert snapshot(engine) == before
    assert dry.dry_run
    assert dry.counts() == EXPECTED.counts()
    assert purge(engine, now=NOW).counts() == dry.counts()


def test_the_periods_are_configurable(engine: Engine) -> None:
    """Longer periods keep more; the boundaries follow the settings, not constants."""
    build(engine)
    report = purge(engine, now=NOW, contact_days=60, closed_days=850)
    assert report.contacts_cleared == 2  # old_anon (31 d) is now kept; closed_anon and ancient_anon
    assert report.numbers_cleared == 1  # ancient_ok (800 d); done_ok closed 31 days ago is kept
    assert report.cases_anonymised == 0  # nothing closed 850 days ago
    assert report.inbound_deleted == 1
    after = cases(engine)
    assert after["old_anon"].contact is not None
    assert after["ancient_anon"].contact is None and after["ancient_anon"].narrative is not None
    assert after["ancient_ok"].contact_phone is None  # consent, closed 800 days ago > 60
    assert after["ancient_ok"].narrative is not None


def test_a_case_reopened_after_anonymisation_is_cleared_again(engine: Engine) -> None:
    """Notes added later to an anonymised, long-closed case are found by the next run."""
    world = build(engine)
    purge(engine, now=NOW)
    with Session(engine) as session:
        session.add(
            CaseNote(
                case_id=world.cases["ancient_ok"],
                body=CIPHER.encrypt("late note", "case_note.body"),
            )
        )
        session.commit()
    report = purge(engine, now=NOW + days(1))
    assert (report.cases_anonymised, report.notes_deleted) == (1, 1)
    assert "late note" not in plaintexts(engine)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"now": datetime(2027, 6, 1)},
        {"now": NOW, "contact_days": 0},
        {"now": NOW, "closed_days": 0},
    ],
)
def test_purge_refuses_a_naive_clock_or_a_zero_period(engine: Engine, kwargs: Any) -> None:
    """``HOTLINE_RETENTION_CLOSED_DAYS=0`` would anonymise every closed case at once."""
    build(engine)
    before = snapshot(engine)
    with pytest.raises(ValueError):
        purge(engine, **kwargs)
    assert snapshot(engine) == before


# --- the job ------------------------------------------------------------------------------


async def test_purge_job_uses_the_configured_periods(
    engine: Engine, in_tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The arq cron job reads the engine from ctx and the periods from the settings."""
    build(engine, now=utcnow())
    monkeypatch.setenv("HOTLINE_RETENTION_CONTACT_DAYS", "60")
    result = await purge_jobs.purge_job({"engine": engine})
    assert result["contacts_cleared"] == 1  # closed_anon; old_anon (31 days) is kept
    assert result["numbers_cleared"] == 0
    assert result["cases_anonymised"] == 2
    [entry] = audit_entries(engine)
    assert entry.action == "purge"


async def test_purge_forever_runs_again_after_a_failure(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The in-process loop purges at start and every interval, and survives an error."""
    calls: list[dict[str, Any]] = []
    twice = asyncio.Event()

    async def job(ctx: dict[str, Any]) -> dict[str, int]:
        calls.append(ctx)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        twice.set()
        return {}

    monkeypatch.setattr(purge_jobs, "purge_job", job)
    task = asyncio.create_task(purge_jobs.purge_forever(engine, interval=timedelta(0)))
    await asyncio.wait_for(twice.wait(), timeout=5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert calls[0] == {"engine": engine}
    assert "retention purge failed" in caplog.text


# --- hotline purge ------------------------------------------------------------------------


@pytest.fixture
def cli_env(in_tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Path:
    """The CLI's environment: the test database and secrets kept in tmp_path."""
    monkeypatch.setenv("HOTLINE_DATABASE_URL", database_url)
    monkeypatch.setenv("HOTLINE_ENCRYPTION_KEYS", CIPHER.keys[0])
    monkeypatch.setenv("HOTLINE_PSEUDONYM_KEY", PSEUDONYM_KEY)
    monkeypatch.setenv("HOTLINE_CALLBACK_TOKEN", "test-callback-token")
    monkeypatch.setenv("HOTLINE_SECRETS_FILE", str(in_tmp_path / "secrets.json"))
    return in_tmp_path


def test_cli_purge_dry_run_prints_counts_and_changes_nothing(engine: Engine, cli_env: Path) -> None:
    """``hotline purge --dry-run``: what would go, per kind."""
    build(engine, now=utcnow())
    before = snapshot(engine)
    result = CliRunner().invoke(main, ["purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("dry run, nothing changed")
    for name, count in EXPECTED.counts().items():
        assert f"  {name}: {count}\n" in result.stdout
    assert snapshot(engine) == before


def test_cli_purge_prints_counts_and_purges(engine: Engine, cli_env: Path) -> None:
    """``hotline purge``: the same counts, applied and audited; a second run finds nothing."""
    build(engine, now=utcnow())
    result = CliRunner().invoke(main, ["purge"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("purged (contact data 30 days, closed cases 730 days)")
    for name, count in EXPECTED.counts().items():
        assert f"  {name}: {count}\n" in result.stdout
    assert_no_phone_numbers(database_text(engine), result.output)
    assert_no_phone_numbers(plaintexts(engine), numbers=GONE)
    assert [e.action for e in audit_entries(engine)] == ["purge"]
    again = CliRunner().invoke(main, ["purge"])
    assert again.exit_code == 0, again.output
    assert "  cases_anonymised: 0\n" in again.stdout
    assert not (cli_env / "secrets.json").exists()  # purge needs no secrets


def test_cli_purge_refuses_a_zero_period(
    engine: Engine, cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A misconfigured period stops with a message, changing nothing."""
    build(engine, now=utcnow())
    before = snapshot(engine)
    monkeypatch.setenv("HOTLINE_RETENTION_CLOSED_DAYS", "0")
    result = CliRunner().invoke(main, ["purge"])
    assert result.exit_code == 1
    assert "at least one day" in result.output
    assert snapshot(engine) == before


def test_a_withdrawn_number_stays_through_the_grace_then_goes(engine: Engine) -> None:
    """Withdrawn consent: the number survives purges during the grace (even on an old case,
    past the no-consent period), a supervisor's restore keeps it, and after the grace the
    purge deletes it."""
    grace = days(7)
    with Session(engine) as session:
        supervisor = Operator(username="sup", display_name="Sup", role="supervisor")
        session.add(supervisor)
        ids = {
            name: add_case(session, name, created=NOW - days(40), consent=True, phone=phone)
            for name, phone in (("withdrawn", GONE[0]), ("restored", KEPT))
        }
        session.commit()
        for name in ids:
            case = session.get_one(Case, ids[name])
            commands.record_consent(
                session, case=case, actor=supervisor, contact=False, now=NOW, grace=grace
            )
        session.commit()

    def phone(name: str) -> str | None:
        with Session(engine) as session:
            return session.get_one(Case, ids[name]).contact_phone

    report = purge(engine, now=NOW + days(6))
    assert report.withdrawn_cleared == 0
    assert phone("withdrawn") is not None and phone("restored") is not None
    with Session(engine) as session:
        supervisor = session.exec(select(Operator)).one()
        case = session.get_one(Case, ids["restored"])
        commands.record_consent(
            session, case=case, actor=supervisor, contact=True, now=NOW + days(6)
        )
        session.commit()
    assert purge(engine, now=NOW + days(7), dry_run=True).withdrawn_cleared == 1
    report = purge(engine, now=NOW + days(7))
    assert report.withdrawn_cleared == 1
    assert phone("withdrawn") is None
    assert CIPHER.decrypt(phone("restored") or "", "case.contact_phone") == KEPT
    with Session(engine) as session:
        assert session.get_one(Case, ids["withdrawn"]).contact_phone_delete_after is None
        kinds = session.exec(
            select(CaseEvent.detail).where(
                col(CaseEvent.case_id) == ids["withdrawn"], col(CaseEvent.kind) == "retention"
            )
        ).all()
    # The case is past the no-consent period as well: its pseudonym and safe time go too.
    assert kinds == [
        "number deleted: contact consent withdrawn, grace over",
        "contact removed after 30 days",
    ]
    assert purge(engine, now=NOW + days(8)).withdrawn_cleared == 0
    assert_no_phone_numbers(database_text(engine))


def test_partner_codes_go_a_month_after_they_expired_or_were_spent(engine: Engine) -> None:
    """A code's hash and the pseudonym of the phone it went to are kept no longer than that."""
    with Session(engine) as session:
        case_id = add_case(session, "referred", created=NOW - days(90))
        service = Service(
            name="Shelter", organisation="Org", service_type="shelter", areas="cd-kwilu"
        )
        session.add(service)
        session.flush()
        assert service.id is not None
        referral = Referral(case_id=case_id, service_id=service.id)
        session.add(referral)
        session.flush()
        assert referral.id is not None
        for hashed, expires, used in (
            ("expired-long-ago", NOW - days(40), None),
            ("spent-long-ago", NOW + days(5), NOW - days(31)),
            ("expired-lately", NOW - days(5), None),
            ("spent-lately", NOW + days(5), NOW - days(2)),
            ("live", NOW + days(20), None),
        ):
            session.add(
                PartnerCode(
                    referral_id=referral.id,
                    code_hash=hashed,
                    contact="p" * 40,
                    created_by="amani",
                    created_at=NOW - days(60),
                    expires_at=expires,
                    used_at=used,
                )
            )
        session.commit()
    assert purge(engine, now=NOW, dry_run=True).partner_codes_deleted == 2
    assert purge(engine, now=NOW).partner_codes_deleted == 2
    with Session(engine) as session:
        left = session.exec(select(PartnerCode.code_hash)).all()
    assert sorted(left) == ["expired-lately", "live", "spent-lately"]
