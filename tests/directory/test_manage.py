"""Keeping the directory one service at a time: filters, add, change, verify, deactivate."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.directory import manage
from bot.directory.csv_io import import_csv
from bot.directory.validate import InvalidService
from bot.models import AuditEntry, Service
from tests.directory import GOOD

TODAY = date(2026, 12, 6)
NEW = {
    "name": "Safe House Maseru",
    "organisation": "World Vision",
    "service_type": "shelter",
    "areas": "Maseru; Berea",
    "phones": "+266 000 000 104",
    "languages": "st; en",
    "status": "active",
}


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session on the six services of good.csv."""
    assert import_csv(engine, GOOD).ok
    with Session(engine) as session:
        yield session


def audit_reasons(db: Session, action: str) -> list[str | None]:
    entries = db.exec(select(AuditEntry).where(col(AuditEntry.action) == action)).all()
    return [entry.reason for entry in entries]


def by_name(db: Session, name: str) -> Service:
    return db.exec(select(Service).where(col(Service.name) == name)).one()


def test_filters_by_area_type_and_active(db: Session) -> None:
    every = manage.list_services(db)
    assert len(every) == 6
    kikwit = manage.list_services(db, area=" kikwit ")
    assert kikwit and all("kikwit" in s.areas.casefold() for s in kikwit)
    shelters = manage.list_services(db, service_type="shelter")
    assert shelters and {s.service_type for s in shelters} == {"shelter"}
    active = manage.list_services(db, active=True)
    inactive = manage.list_services(db, active=False)
    assert len(active) + len(inactive) == 6
    assert all(s.status == "active" for s in active)
    assert manage.list_services(db, area="", service_type="") == every
    assert "Kikwit" in manage.areas(db)
    with pytest.raises(ValueError, match="is not one of"):
        manage.list_services(db, service_type="spa")


def test_add_a_service_checked_and_audited(db: Session) -> None:
    service = manage.add_service(db, NEW, actor="ada", today=TODAY)
    db.commit()
    stored = by_name(db, "Safe House Maseru")
    assert (stored.id, stored.areas, stored.languages) == (service.id, "Maseru,Berea", "st,en")
    assert audit_reasons(db, "add_service") == [f"service {service.id}: Safe House Maseru"]
    with pytest.raises(manage.DuplicateService):
        manage.add_service(db, {**NEW, "name": " safe house MASERU "}, actor="ada", today=TODAY)
    with pytest.raises(InvalidService) as refused:
        manage.add_service(db, {**NEW, "name": "", "service_type": "spa"}, actor="ada")
    assert [e.field for e in refused.value.errors] == ["name", "service_type"]


def test_change_names_the_fields_changed_and_never_a_phone(db: Session) -> None:
    maison = by_name(db, "Maison Espoir")
    changed = manage.change_service(
        db, maison, {"hours": "Mon-Sat", "phones": "+243 000 000 199"}, actor="ada", today=TODAY
    )
    assert changed == ["phones", "hours"]
    assert (maison.hours, maison.organisation) == ("Mon-Sat", "Caritas Kikwit")
    assert audit_reasons(db, "change_service") == [f"service {maison.id}: phones, hours"]
    assert manage.change_service(db, maison, {"hours": "Mon-Sat"}, actor="ada") == []
    other = manage.list_services(db)[0]
    with pytest.raises(manage.DuplicateService):
        manage.change_service(
            db, other, {"name": maison.name, "organisation": maison.organisation}, actor="ada"
        )


def test_mark_verified_and_not_in_the_future(db: Session) -> None:
    maison = by_name(db, "Maison Espoir")
    assert manage.mark_verified(db, maison, on=TODAY, actor="joseph", today=TODAY)
    assert maison.last_verified == TODAY
    assert not manage.mark_verified(db, maison, on=TODAY, actor="joseph", today=TODAY)
    with pytest.raises(InvalidService, match="in the future"):
        manage.mark_verified(db, maison, on=date(2027, 1, 1), actor="joseph", today=TODAY)
    assert maison.last_verified == TODAY


def test_deactivate_keeps_the_service_but_offers_it_no_more(db: Session) -> None:
    maison = by_name(db, "Maison Espoir")
    assert manage.deactivate(db, maison, actor="ada")
    assert not manage.deactivate(db, maison, actor="ada")
    db.commit()
    assert maison not in manage.list_services(db, active=True)
    assert maison in manage.list_services(db, active=False)
    assert audit_reasons(db, "change_service") == [f"service {maison.id}: closed"]
    assert manage.set_status(db, maison, "active", actor="ada")
    with pytest.raises(ValueError, match="is not one of"):
        manage.set_status(db, maison, "gone", actor="ada")


def test_an_unknown_service(db: Session) -> None:
    with pytest.raises(manage.NoSuchService, match="no service 999"):
        manage.get_service(db, 999)
