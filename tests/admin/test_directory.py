"""The directory page: the team reads it, admins keep it (add, edit, verify, deactivate, CSV)."""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import Session, col, select

from bot.models import AuditEntry, Service
from tests.admin.conftest import Web
from tests.api import add_service
from tests.directory import GOOD

NEW = {
    "name": "Safe House Maseru",
    "organisation": "World Vision",
    "service_type": "shelter",
    "areas": "Maseru; Berea",
    "phones": "+266 000 000 104",
    "status": "active",
    "genders": "any",
}


def stored(web: Web) -> dict[str, Service]:
    with Session(web.engine) as db:
        return {s.name: s for s in db.exec(select(Service)).all()}


def actions(web: Web) -> list[tuple[str, str]]:
    with Session(web.engine) as db:
        entries = db.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
        return [(e.actor, e.action) for e in entries if e.actor != "system"]


@pytest.mark.parametrize("role", ["operator", "supervisor"])
def test_the_team_reads_the_directory_but_only_admins_change_it(web: Web, role: str) -> None:
    service = add_service(web.engine)
    web.as_role(role)
    page = web.client.get("/directory")
    assert page.status_code == 200
    assert "Maison Espoir" in page.text and "Caritas Kikwit" in page.text
    assert f"/directory/{service}/deactivate" not in page.text
    assert 'href="/directory/new"' not in page.text
    assert web.client.get("/directory/new", follow_redirects=False).status_code == 403
    refused = web.post("/directory", NEW)
    assert refused.status_code == 403
    assert web.post(f"/directory/{service}/deactivate").status_code == 403
    assert "Safe House Maseru" not in stored(web)
    assert stored(web)["Maison Espoir"].status == "active"


def test_an_admin_sees_every_control(web: Web) -> None:
    service = add_service(web.engine)
    web.as_role("admin")
    page = web.client.get("/directory").text
    for control in (
        'href="/directory/new"',
        'href="/directory/import"',
        f'action="/directory/{service}/verify"',
        f'action="/directory/{service}/deactivate"',
        f'href="/directory/{service}"',
    ):
        assert control in page


def test_filters_by_area_type_and_active(web: Web) -> None:
    add_service(web.engine)
    add_service(web.engine, name="Clinique", service_type="medical", areas="Kinshasa")
    add_service(web.engine, name="Closed shelter", areas="Kinshasa", status="closed")
    web.as_role("operator")

    def names(query: str) -> list[str]:
        text = web.client.get("/directory" + query).text
        return [n for n in ("Maison Espoir", "Clinique", "Closed shelter") if n in text]

    assert names("") == ["Maison Espoir", "Clinique", "Closed shelter"]
    assert names("?area=kinshasa") == ["Clinique", "Closed shelter"]
    assert names("?type=shelter") == ["Maison Espoir", "Closed shelter"]
    assert names("?active=yes") == ["Maison Espoir", "Clinique"]
    assert names("?active=no") == ["Closed shelter"]
    assert names("?type=spa&active=maybe") == ["Maison Espoir", "Clinique", "Closed shelter"]


def test_an_admin_adds_a_service_and_a_bad_form_keeps_what_was_typed(web: Web) -> None:
    web.as_role("admin")
    added = web.post("/directory", {**NEW, "languages": "st"})
    assert added.status_code == 303 and added.headers["location"] == "/directory"
    assert "Service added." in web.client.get("/directory").text
    service = stored(web)["Safe House Maseru"]
    assert (service.areas, service.languages) == ("Maseru,Berea", "st")
    bad = web.post("/directory", {**NEW, "name": "Second", "service_type": "spa", "min_age": "x"})
    assert bad.status_code == 422
    assert "Some fields are not valid. Nothing was saved." in bad.text
    assert 'value="Second"' in bad.text and 'aria-invalid="true"' in bad.text
    assert "Second" not in stored(web)
    again = web.post("/directory", NEW)
    assert again.status_code == 422
    assert "Another service has this name and organisation" in again.text
    assert actions(web) == [("ada", "add_service")]


def test_an_admin_edits_verifies_deactivates_and_activates(web: Web) -> None:
    service = add_service(web.engine)
    web.as_role("admin")
    form = web.client.get(f"/directory/{service}")
    assert form.status_code == 200 and 'value="Maison Espoir"' in form.text
    fields = {**NEW, "name": "Maison Espoir", "organisation": "Caritas Kikwit", "hours": "24/7"}
    assert web.post(f"/directory/{service}", fields).status_code == 303
    assert stored(web)["Maison Espoir"].hours == "24/7"
    day = web.clock.now.date()
    assert web.post(f"/directory/{service}/verify", {"on": day.isoformat()}).status_code == 303
    assert stored(web)["Maison Espoir"].last_verified == day
    future = web.post(f"/directory/{service}/verify", {"on": "2999-01-01"})
    assert future.status_code == 422
    assert web.post(f"/directory/{service}/deactivate").status_code == 303
    assert web.post(f"/directory/{service}/deactivate").status_code == 303  # a retry: no change
    assert stored(web)["Maison Espoir"].status == "closed"
    assert web.post(f"/directory/{service}/activate").status_code == 303
    assert stored(web)["Maison Espoir"].status == "active"
    assert [a for a in actions(web) if a[1] == "change_service"] == [("ada", "change_service")] * 4
    assert web.client.get("/directory/999").status_code == 404


def test_a_csv_import_is_all_or_nothing_with_an_error_per_row(web: Web) -> None:
    web.as_role("admin")
    assert web.client.get("/directory/import").status_code == 200
    bad = (
        DATA_HEADER + "\n"
        "Ok,Org,shelter,Kikwit,,,fr,,,any,active,\n"
        "Bad,Org,spa,Kikwit,,,fr,,,any,active,\n"
        "Worse,Org,shelter,,,,xx,,,any,active,\n"
    )
    refused = web.client.post(
        "/directory/import",
        data={"csrf": web.csrf()},
        files={"file": ("d.csv", bad.encode(), "text/csv")},
    )
    assert refused.status_code == 422
    assert "Nothing was imported: 3 problems" in refused.text
    assert "row 3: service_type" in refused.text and "row 4: areas is required" in refused.text
    assert stored(web) == {}
    imported = web.client.post(
        "/directory/import",
        data={"csrf": web.csrf()},
        files={"file": ("good.csv", GOOD.read_bytes(), "text/csv")},
        follow_redirects=False,
    )
    assert imported.status_code == 303
    assert len(stored(web)) == 6
    assert ("ada", "import_directory") in actions(web)


def test_an_uploaded_line_is_never_read_as_a_file_name(web: Web) -> None:
    web.as_role("admin")
    refused = web.client.post(
        "/directory/import",
        data={"csrf": web.csrf()},
        files={"file": ("x.csv", b"/etc/passwd", "text/csv")},
    )
    assert refused.status_code == 422
    assert "root" not in refused.text


def test_an_import_without_its_csrf_token_imports_nothing(web: Web) -> None:
    web.as_role("admin")
    refused = web.client.post(
        "/directory/import",
        data={"csrf": "forged"},
        files={"file": ("good.csv", GOOD.read_bytes(), "text/csv")},
    )
    assert refused.status_code == 403
    assert stored(web) == {}


def test_the_export_neutralises_formulas(web: Web) -> None:
    add_service(web.engine, name="=HYPERLINK(1)", organisation="@org", phones="+243 000 000 100")
    web.as_role("operator")
    exported = web.client.get("/directory/export")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[1][:2] == ["'=HYPERLINK(1)", "'@org"]
    assert rows[1][4] == "'+243 000 000 100"


@pytest.mark.parametrize(
    "path", ["/directory", "/directory/1", "/directory/1/verify", "/directory/1/deactivate"]
)
def test_a_change_without_its_csrf_token_changes_nothing(web: Web, path: str) -> None:
    add_service(web.engine)
    web.as_role("admin")
    before = stored(web)["Maison Espoir"].model_dump()
    response = web.client.post(path, data={**NEW, "name": "Maison Espoir", "hours": "x"})
    assert response.status_code == 403
    assert stored(web)["Maison Espoir"].model_dump() == before
    assert len(stored(web)) == 1


DATA_HEADER = (
    "name,organisation,service_type,areas,phones,hours,languages,min_age,max_age,genders,"
    "status,last_verified"
)


def test_the_page_speaks_the_readers_language(web: Web) -> None:
    add_service(web.engine)
    web.as_("amani")  # reads French
    page = web.client.get("/directory").text
    assert "Annuaire des services" in page and "centre d'accueil" in page
    web.as_("lerato")  # reads Sesotho
    assert "Bukana ea litšebeletso" in web.client.get("/directory").text
