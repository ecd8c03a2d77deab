"""The admins' case-level export: whitelisted coded fields, no free text, pseudonymous ids,
encrypted with the admin's password, recorded in the audit log."""

from __future__ import annotations

import io

import msoffcrypto
import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.models import AuditEntry
from bot.stats.case_export import FIELDS, WeakPassword, export_cases, pseudonym
from bot.stats.periods import Period
from tests.stats.helpers import MARCH, add_cases

PASSWORD = "correct horse battery"
KEY = b"k" * 32


def opened(content: bytes, password: str) -> list[tuple[object, ...]]:
    office = msoffcrypto.OfficeFile(io.BytesIO(content))
    office.load_key(password=password)
    plain = io.BytesIO()
    office.decrypt(plain)
    return list(load_workbook(plain).active.iter_rows(values_only=True))


def test_rows_hold_only_the_whitelist_and_open_only_with_the_password(engine: Engine) -> None:
    add_cases(
        engine,
        2,
        at=MARCH,
        area="cd-kwilu-kikwit",
        narrative="sealed narrative",
        safe_time="sealed time",
        rule="=1+1",
        kind="=cmd|' /C calc'!A0",
    )
    with Session(engine) as session:
        export = export_cases(
            session,
            Period.parse("2026-03"),
            password=PASSWORD,
            actor="ada",
            key=KEY,
            provinces={"cd-kwilu-kikwit": "cd-kwilu"},
        )
        session.commit()
        audited = session.exec(select(AuditEntry)).one()
    assert export.cases == 2 and audited.action == "stats_export" and audited.actor == "ada"
    with pytest.raises(Exception):  # noqa: B017 - the wrong password opens nothing
        opened(export.content, "wrong password!")
    rows = opened(export.content, PASSWORD)
    assert rows[0] == FIELDS
    text = " ".join(str(v) for row in rows for v in row)
    assert "sealed" not in text and "T0" not in text  # no free text, no reference
    first = dict(zip(FIELDS, rows[1], strict=True))
    assert first["month"] == "2026-03" and first["province"] == "cd-kwilu"
    assert first["kind"] == "'=cmd|' /C calc'!A0"  # a formula stays text
    assert len(str(first["case"])) == 16 and first["case"] != pseudonym(b"other", 1)


def test_a_short_password_is_refused_and_nothing_is_audited(engine: Engine) -> None:
    with Session(engine) as session:
        with pytest.raises(WeakPassword):
            export_cases(
                session, Period.parse("2026"), password="short", actor="ada", key=KEY, provinces={}
            )
        session.commit()
        assert session.exec(select(AuditEntry)).first() is None
