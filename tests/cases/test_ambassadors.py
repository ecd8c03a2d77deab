"""Ambassador invites (single use, expiry, area), registration, and the reports they see."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.cases import ambassadors
from bot.cases.ambassadors import ALPHABET, CODE_LENGTH, Redeemed
from bot.content.files import read_areas
from bot.core.clock import utcnow
from bot.i18n import ui
from bot.models import Case
from bot.models.ambassador import Ambassador, Invite
from tests.conftest import database_text

KEY = "p" * 32
ROOT = Path(__file__).resolve().parents[2]
TREE = read_areas(ROOT / "flows" / "data" / "areas.yaml")


def invite(engine: Engine, **kwargs: object) -> str:
    [issued] = ambassadors.issue(engine, KEY, tree=TREE, **kwargs)  # type: ignore[arg-type]
    return issued.code


def test_codes_are_readable_random_and_stored_only_as_an_hmac(engine: Engine) -> None:
    issued = ambassadors.issue(engine, KEY, tree=TREE, count=5)
    codes = [i.code for i in issued]
    assert len(set(codes)) == 5
    for code in codes:
        assert len(code) == CODE_LENGTH and set(code) <= set(ALPHABET)
        assert not set(code) & set("IL01O")
    stored = database_text(engine)
    for code in codes:
        assert code not in stored and code.lower() not in stored
        assert ambassadors.code_hash(KEY, code) in stored
    with Session(engine) as session:
        invites = session.exec(select(Invite)).all()
    assert len(invites) == 5
    assert all(i.used_at is None and i.area is None for i in invites)
    expires = invites[0].expires_at
    expected = utcnow() + timedelta(days=14)
    assert abs((ambassadors._aware(expires) - expected).total_seconds()) < 60


def test_a_code_registers_once_then_is_refused(engine: Engine) -> None:
    code = invite(engine, area="cd-kwilu-kikwit")
    assert ambassadors.redeem(engine, KEY, code, "te_first") is Redeemed.REGISTERED
    assert ambassadors.redeem(engine, KEY, code, "te_second") is Redeemed.REFUSED
    assert ambassadors.is_ambassador(engine, "te_first")
    assert not ambassadors.is_ambassador(engine, "te_second")
    found = ambassadors.ambassador(engine, "te_first")
    assert found is not None and found.area == "cd-kwilu-kikwit"


def test_typed_codes_ignore_case_spaces_and_dashes(engine: Engine) -> None:
    code = invite(engine)
    typed = f" {code[:5].lower()}-{code[5:]} "
    assert ambassadors.redeem(engine, KEY, typed, "te_first") is Redeemed.REGISTERED


@pytest.mark.parametrize("text", ["", "HELLO", "ABCDEFGHJK", "ABCDEFGHJ1", "x" * 64])
def test_unknown_or_malformed_codes_are_refused_and_nothing_is_stored(
    engine: Engine, text: str
) -> None:
    invite(engine)
    assert ambassadors.redeem(engine, KEY, text, "te_first") is Redeemed.REFUSED
    with Session(engine) as session:
        assert session.exec(select(Ambassador)).all() == []
        assert session.exec(select(Invite)).one().used_at is None


def test_an_expired_code_is_refused(engine: Engine) -> None:
    code = invite(engine, days=1, now=utcnow() - timedelta(days=2))
    assert ambassadors.redeem(engine, KEY, code, "te_first") is Redeemed.REFUSED
    assert not ambassadors.is_ambassador(engine, "te_first")


def test_a_code_under_another_key_is_unknown(engine: Engine) -> None:
    code = invite(engine)
    assert ambassadors.redeem(engine, "q" * 32, code, "te_first") is Redeemed.REFUSED


def test_two_people_redeeming_one_code_at_once_one_wins(engine: Engine) -> None:
    for _ in range(5):
        code = invite(engine)
        barrier = threading.Barrier(2)
        results: list[Redeemed] = []

        def redeem(
            contact: str,
            code: str = code,
            barrier: threading.Barrier = barrier,
            results: list[Redeemed] = results,
        ) -> None:
            barrier.wait()
            results.append(ambassadors.redeem(engine, KEY, code, contact))

        threads = [threading.Thread(target=redeem, args=(f"te_{code}_{n}",)) for n in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [Redeemed.REFUSED, Redeemed.REGISTERED]
    with Session(engine) as session:
        assert len(session.exec(select(Ambassador)).all()) == 5


def test_an_active_ambassador_keeps_the_new_code_unused(engine: Engine) -> None:
    first, second = invite(engine), invite(engine)
    assert ambassadors.redeem(engine, KEY, first, "te_first") is Redeemed.REGISTERED
    assert ambassadors.redeem(engine, KEY, second, "te_first") is Redeemed.ALREADY
    assert ambassadors.redeem(engine, KEY, second, "te_second") is Redeemed.REGISTERED


def test_an_inactive_ambassador_is_registered_again(engine: Engine) -> None:
    first, second = invite(engine), invite(engine, area="ls-maseru")
    ambassadors.redeem(engine, KEY, first, "te_first")
    with Session(engine) as session:
        found = session.exec(select(Ambassador)).one()
        found.active = False
        session.add(found)
        session.commit()
    assert not ambassadors.is_ambassador(engine, "te_first")
    assert ambassadors.redeem(engine, KEY, second, "te_first") is Redeemed.REGISTERED
    found_again = ambassadors.ambassador(engine, "te_first")
    assert found_again is not None and found_again.area == "ls-maseru"


@pytest.mark.parametrize("area", ["cd-nowhere", "kikwit", "CD-KWILU-"])
def test_an_invite_area_must_be_a_known_area_code(engine: Engine, area: str) -> None:
    with pytest.raises(ValueError, match="unknown area code"):
        ambassadors.issue(engine, KEY, tree=TREE, area=area)
    with pytest.raises(ValueError, match="unknown area code"):
        ambassadors.issue(engine, KEY, tree=None, area="cd")


def test_count_and_days_are_bounded(engine: Engine) -> None:
    with pytest.raises(ValueError, match="count"):
        ambassadors.issue(engine, KEY, count=0)
    with pytest.raises(ValueError, match="days"):
        ambassadors.issue(engine, KEY, days=0)


def _case(session: Session, reference: str, contact: str, kind: str, status: str, day: int) -> None:
    at = utcnow() - timedelta(days=10 - day)
    session.add(
        Case(
            reference=reference,
            event_key=f"telegram:{reference}",
            kind=kind,
            channel="telegram",
            lang="en",
            priority="P3",
            contact=contact,
            status=status,
            narrative="SECRET NARRATIVE",
            area="cd-kwilu-kikwit",
            due_at=at,
            created_at=at,
            updated_at=at,
        )
    )


def test_reports_are_the_ambassador_s_own_newest_first_with_a_neutral_status(
    engine: Engine,
) -> None:
    with Session(engine) as session:
        _case(session, "AAAA-11", "te_first", "ambassador_report", "new", 1)
        _case(session, "BBBB-22", "te_first", "ambassador_report", "referred", 2)
        _case(session, "CCCC-33", "te_first", "ambassador_report", "closed", 3)
        _case(session, "DDDD-44", "te_first", "tip", "new", 4)
        _case(session, "EEEE-55", "te_other", "ambassador_report", "active", 5)
        session.commit()
    found = ambassadors.reports(engine, "te_first")
    assert [r.reference for r in found] == ["CCCC-33", "BBBB-22", "AAAA-11"]
    assert [r.status for r in found] == [
        ui.STATUS_CLOSED,
        ui.STATUS_PARTNER,
        ui.STATUS_RECEIVED,
    ]
    assert all(r.created_at.tzinfo is not None for r in found)
    shown = " ".join(f"{r}" for r in found)
    assert "SECRET" not in shown and "kikwit" not in shown
    assert ambassadors.reports(engine, "te_nobody") == []


def test_the_list_names_ambassadors_by_pseudonym_prefix(engine: Engine) -> None:
    ambassadors.redeem(engine, KEY, invite(engine, area="gn-conakry"), "te_" + "a" * 32)
    [row] = ambassadors.list_ambassadors(engine)
    assert row.contact_prefix == "te_aaaaaaaa"
    assert row.area == "gn-conakry" and row.active
