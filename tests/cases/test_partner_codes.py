"""Partner codes: what reads as a reply, where a code goes, and that it is kept only hashed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.cases import partner_codes
from bot.cases.partner_codes import PartnerSmsRefused, Reply, parse
from bot.cases.referrals import create_referral, update_referral
from bot.models import Case, Operator, OutboundMessage, PartnerCode, Referral, Service
from bot.outbox import queue
from tests.cases.helpers import CATALOGS, CIPHER, T0, team
from tests.cases.test_escalation import new_case
from tests.conftest import PSEUDONYM_KEY, database_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("K7QM4C ACCEPT", Reply("K7QM4C", "accepted", None)),
        ("k7qm4c accepter", Reply("K7QM4C", "accepted", None)),
        ("K7QM4C decline  no bed tonight ", Reply("K7QM4C", "rejected", "no bed tonight")),
        ("K7QM4C REFUSE", Reply("K7QM4C", "rejected", None)),
        ("K7QM4C DONE", Reply("K7QM4C", "done", None)),
        ("K7QM4C fait", Reply("K7QM4C", "done", None)),
        ("K7QM4C MAYBE", None),
        ("K7QM0C ACCEPT", None),  # 0 is not in the alphabet
        ("1 K7QM-46", None),
        ("ACCEPT", None),
    ],
)
def test_what_reads_as_a_partner_reply(text: str, expected: Reply | None) -> None:
    assert parse(text) == expected


def service(phones: str = "+243 000 000 100, 0700 000 100", languages: str = "ln,fr") -> Service:
    return Service(
        name="A shelter with a rather long name that goes on and on",
        organisation="Org",
        service_type="shelter",
        areas="cd-kwilu-kikwit",
        phones=phones,
        languages=languages,
    )


def test_the_service_phone_is_its_first_number_that_reads_as_one() -> None:
    assert partner_codes.service_phone(service("call us, +243 000 000 100")) == "+243000000100"
    assert partner_codes.service_phone(service("0700 000 100")) is None
    assert partner_codes.service_phone(service("0700 000 100"), "CD") == "+243700000100"
    assert partner_codes.service_lang(service(languages="xx,ln"), "en") == "ln"
    assert partner_codes.service_lang(service(languages=""), "fr") == "fr"


async def referral(engine: Engine, phones: str = "+243 000 000 100") -> int:
    team(engine)
    await new_case(engine)
    with Session(engine) as session:
        case = session.exec(select(Case)).one()
        case.consent_refer = True
        helper = service(phones)
        session.add_all([case, helper])
        session.flush()
        actor = session.exec(select(Operator).where(Operator.username == "amani")).one()
        made = create_referral(session, case=case, service=helper, actor=actor, now=T0)
        session.commit()
        assert made.id is not None
        return made.id


def send(engine: Engine, referral_id: int) -> int:
    with Session(engine) as session:
        made = session.get(Referral, referral_id)
        assert made is not None
        sent = partner_codes.send_code(
            session,
            CIPHER,
            CATALOGS.gettext,
            referral=made,
            actor="amani",
            secret=PSEUDONYM_KEY,
            days=30,
            now=T0,
        )
        session.commit()
        return sent


async def test_a_code_goes_neutral_and_is_kept_hashed(engine: Engine) -> None:
    referral_id = await referral(engine)
    sent = send(engine, referral_id)
    with Session(engine) as session:
        message = session.get(OutboundMessage, sent)
        assert message is not None and message.purpose == "partner" and message.lang == "ln"
        body = CIPHER.decrypt(message.body, queue.BODY)
        code = body.split("Zongisa ")[1].split(" ")[0]
        [row] = session.exec(select(PartnerCode)).all()
        assert row.expires_at == T0 + timedelta(days=30)
        case = session.exec(select(Case)).one()
    assert case.reference in body and "A shelter with a rather long" in body
    assert "that goes on" not in body, "the service's name is cut to keep one SMS part"
    assert message.parts == 1
    assert code not in database_text(engine), "the code is kept as a keyed hash only"
    # A new code for the same referral: the first one stops working.
    send(engine, referral_id)
    with Session(engine) as session:
        rows = session.exec(select(PartnerCode).order_by(PartnerCode.id)).all()  # type: ignore[arg-type]
        assert [r.used_at is not None for r in rows] == [True, False]


async def test_no_code_without_a_phone_or_for_a_finished_referral(engine: Engine) -> None:
    referral_id = await referral(engine, phones="ask at the desk")
    with pytest.raises(PartnerSmsRefused, match="no phone number"):
        send(engine, referral_id)
    with Session(engine) as session:
        made = session.get(Referral, referral_id)
        actor = session.exec(select(Operator).where(Operator.username == "amani")).one()
        assert made is not None
        update_referral(session, made, actor=actor, to="revoked", now=T0)
        session.commit()
    with pytest.raises(PartnerSmsRefused, match="revoked"):
        send(engine, referral_id)
