"""Operators' SMS commands: what reads as one, who sends it (by pseudonym), what it may do."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.cases import sms_commands
from bot.cases.sms_commands import Command, parse
from bot.core.privacy import pseudonym
from bot.i18n import ui
from bot.models import Case, Operator
from bot.team.operators import change_operator
from tests.cases.helpers import CATALOGS, CIPHER, T0, team
from tests.cases.test_escalation import new_case
from tests.conftest import PSEUDONYM_KEY, TEST_PHONES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 K7QM-46", Command("1", "K7QM-46")),
        ("2 k7qm 46", Command("2", "K7QM-46")),
        (" 1.K7QM46 ", Command("1", "K7QM-46")),
        ("2-k7qm-46", Command("2", "K7QM-46")),
        ("1", None),
        ("3 K7QM-46", None),
        ("1 K7QM-4", None),
        ("1 hello there", None),
        ("12 K7QM-46", None),
        ("AIDE", None),
    ],
)
def test_what_reads_as_a_command(text: str, expected: Command | None) -> None:
    assert parse(text) == expected


def contact(phone: str) -> str:
    return pseudonym(PSEUDONYM_KEY, "phone", phone)


def who(session: Session, phone: str) -> Operator | None:
    """The operator an SMS from ``phone`` comes from, if any."""
    return sms_commands.operator_for(session, CIPHER, PSEUDONYM_KEY, contact(phone))


def test_an_operator_is_known_by_the_pseudonym_of_their_phone(engine: Engine) -> None:
    team(engine)
    with Session(engine) as session:
        found = who(session, TEST_PHONES[1])
        assert found is not None and found.username == "lerato"
        assert who(session, "+243000000077") is None
        stored = {o.username: o.phone_contact for o in session.exec(select(Operator))}
        assert stored == {
            u: contact(p) for u, p in zip(["amani", "lerato", "joseph"], TEST_PHONES, strict=True)
        }


def test_a_changed_or_deactivated_phone_no_longer_commands(engine: Engine) -> None:
    team(engine)
    with Session(engine) as session:
        amani = session.exec(select(Operator).where(Operator.username == "amani")).one()
        assert who(session, TEST_PHONES[0])
        change_operator(session, amani, actor="admin", phone="+243000000078", cipher=CIPHER)
        assert who(session, TEST_PHONES[0]) is None
        found = who(session, "+243000000078")
        assert found is not None and found.username == "amani"
        amani.active = False
        session.add(amani)
        assert who(session, "+243000000078") is None


def run(engine: Engine, username: str, text: str) -> str:
    with Session(engine) as session:
        operator = session.exec(select(Operator).where(Operator.username == username)).one()
        command = parse(text)
        assert command is not None
        answer = sms_commands.run(
            session,
            CATALOGS.gettext,
            operator=operator,
            command=command,
            now=T0 + timedelta(minutes=3),
        )
        session.commit()
        return answer


async def test_only_the_alerted_the_holder_or_a_supervisor_may_act(engine: Engine) -> None:
    team(engine)
    case = await new_case(engine)
    ref = case.reference
    nothing = CATALOGS.gettext("st", ui.SMS_NOTHING_DONE).format(reference=ref)
    assert run(engine, "lerato", f"1 {ref}") == nothing, "the backup was not alerted yet"
    assert run(engine, "amani", f"2 {ref}") == CATALOGS.gettext("fr", ui.OP_CLAIMED).format(
        reference=ref
    )
    taken = CATALOGS.gettext("en", ui.OP_CLAIMED_BY_OTHER).format(reference=ref)
    assert run(engine, "joseph", f"2 {ref}") != taken, "a supervisor may take a case over"
    with Session(engine) as session:
        assert session.exec(select(Case)).one().assignee_id is not None
