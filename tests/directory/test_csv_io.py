"""The service directory as CSV: import (all or nothing), export, and the CLI."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.cli import main
from bot.directory.csv_io import COLUMNS, export_csv, import_csv, import_text, parse_csv
from bot.directory.search import find
from bot.models import AuditEntry, Service
from tests.conftest import assert_no_phone_numbers
from tests.directory import DATA, GOOD

HEADER = ",".join(COLUMNS)
# Obviously fake public service numbers used by the fixtures.
SERVICE_PHONES = ("+243 000 000 100", "+243 000 000 101", "+266 000 000 102")


def services(engine: Engine) -> dict[str, Service]:
    """Every service in the directory, by name."""
    with Session(engine) as session:
        return {s.name: s for s in session.exec(select(Service)).all()}


def csv_text(*rows: str) -> str:
    """A directory CSV with the standard header."""
    return "\n".join([HEADER, *rows]) + "\n"


ROW = "Maison Espoir,Caritas Kikwit,shelter,Kikwit,+243 000 000 100,24/7,fr,,,any,active,2025-09-01"


def test_good_file_imports_every_field(engine: Engine) -> None:
    result = import_csv(engine, GOOD)

    assert result.ok
    assert (result.added, result.updated, result.unchanged) == (6, 0, 0)
    stored = services(engine)
    assert len(stored) == 6
    maison = stored["Maison Espoir"]
    assert maison.organisation == "Caritas Kikwit"
    assert maison.service_type == "shelter"
    assert maison.areas == "Kikwit,Kwilu"
    assert maison.phones == "+243 000 000 100"
    assert maison.hours == "24/7"
    assert maison.languages == "fr,ln"
    assert (maison.min_age, maison.max_age) == (None, 17)
    assert maison.genders == "female"
    assert maison.status == "active"
    assert maison.last_verified == date(2025, 9, 1)
    bondeko = stored["Centre médical Bondeko"]
    assert bondeko.hours == "Mon-Fri 08:00-17:00, Sat 08:00-12:00"
    assert bondeko.areas == "Kinshasa,Kikwit"
    assert bondeko.languages == "fr,ln,en"
    youth = stored["Youth listening centre"]
    assert (youth.min_age, youth.max_age, youth.genders) == (12, 24, "male")
    assert youth.phones == ""
    assert youth.last_verified is None


def test_csv_text_imports_like_a_file(engine: Engine) -> None:
    result = import_csv(engine, GOOD.read_text(encoding="utf-8"))

    assert (result.added, result.updated) == (6, 0)


def test_reimport_updates_instead_of_duplicating(engine: Engine) -> None:
    import_csv(engine, GOOD)
    before = services(engine)["Maison Espoir"].updated_at
    changed = GOOD.read_text(encoding="utf-8").replace(
        "Maison Espoir,Caritas Kikwit,shelter,Kikwit; Kwilu",
        "maison espoir,CARITAS KIKWIT,shelter,Kikwit; Kwilu; Bulungu",
    )

    result = import_csv(engine, changed)

    assert (result.added, result.updated, result.unchanged) == (0, 1, 5)
    stored = services(engine)
    assert len(stored) == 6
    maison = stored["maison espoir"]
    assert maison.areas == "Kikwit,Kwilu,Bulungu"
    assert maison.organisation == "CARITAS KIKWIT"
    assert maison.updated_at > before


def test_two_bad_rows_are_both_reported_and_nothing_is_imported(engine: Engine) -> None:
    result = import_csv(engine, DATA / "two_bad_rows.csv")

    assert not result.ok
    assert result.errors == [
        "row 3: service_type 'clinic' is not one of shelter, medical, psychosocial, legal, "
        "police, family_tracing, return_reintegration",
        "row 5: last_verified '2025-13-01' is not a date (YYYY-MM-DD)",
    ]
    assert (result.added, result.updated) == (0, 0)
    assert services(engine) == {}


def test_bad_rows_leave_an_existing_directory_unchanged(engine: Engine) -> None:
    import_csv(engine, GOOD)
    before = export_csv(engine)
    edited = GOOD.read_text(encoding="utf-8").replace("24/7", "08:00-16:00")
    bad = edited + "Nouveau centre,ONG,clinic,Kikwit,,,fr,,,any,active,\n"

    result = import_csv(engine, bad)

    assert result.errors == [
        "row 8: service_type 'clinic' is not one of shelter, medical, psychosocial, legal, "
        "police, family_tracing, return_reintegration"
    ]
    assert export_csv(engine) == before


@pytest.mark.parametrize(
    ("row", "error"),
    [
        (
            "Maison,Caritas,shelter,Kikwit,,,fr,18,12,any,active,",
            "row 2: min_age 18 is greater than max_age 12",
        ),
        (
            "Maison,Caritas,shelter,Kikwit,,,fr;sw,,,any,active,",
            "row 2: language 'sw' is not one of en, fr, ln, st",
        ),
        ("Maison,Caritas,shelter,Kikwit,,,fr,ten,,any,active,", "row 2: min_age 'ten' is not"),
        ("Maison,Caritas,shelter,Kikwit,,,fr,,,women,active,", "row 2: genders 'women' is not"),
        ("Maison,Caritas,shelter,Kikwit,,,fr,,,any,open,", "row 2: status 'open' is not one of"),
        ("Maison,Caritas,shelter,Kikwit,,,fr,,,any,,", "row 2: status is required"),
        (",Caritas,shelter,Kikwit,,,fr,,,any,active,", "row 2: name is required"),
        ("Maison,Caritas,shelter,,,,fr,,,any,active,", "row 2: areas is required"),
        (
            "Maison,Caritas,shelter,Kikwit,,,fr,,,any,active,01/09/2025",
            "row 2: last_verified '01/09/2025' is not a date (YYYY-MM-DD)",
        ),
        (
            "Maison,Caritas,shelter,Kikwit,,,fr,,,any,active,2999-01-01",
            "row 2: last_verified '2999-01-01' is in the future",
        ),
        (
            'Maison,Caritas,shelter,"Kikwit, Kwilu",,,fr,,,any,active,',
            "row 2: area 'Kikwit, Kwilu' contains a comma; separate areas with ';'",
        ),
        ("Maison,Caritas,shelter,Kikwit,,,fr,,,any,active,,extra", "row 2: 13 cells but"),
        ("M" * 201 + ",Caritas,shelter,Kikwit,,,fr,,,any,active,", "row 2: name is longer than"),
    ],
)
def test_row_errors(row: str, error: str) -> None:
    rows, errors = parse_csv(csv_text(row))

    assert rows == []
    assert len(errors) == 1
    assert errors[0].startswith(error)


def test_duplicate_service_in_one_file_is_an_error() -> None:
    _, errors = parse_csv(csv_text(ROW, "", ROW.replace("Maison Espoir", "MAISON ESPOIR ")))

    assert errors == ["row 4: same name and organisation as row 2"]


@pytest.mark.parametrize(
    ("text", "errors"),
    [
        (
            (DATA / "missing_column.csv").read_text(encoding="utf-8"),
            ["header: missing column(s) languages"],
        ),
        (
            csv_text(ROW).replace("hours", "opening"),
            [
                "header: missing column(s) hours",
                f"header: unknown column(s) 'opening' (columns: {', '.join(COLUMNS)})",
            ],
        ),
        (
            csv_text(ROW).replace("phones", "name"),
            ["header: missing column(s) phones", "header: column(s) name appear more than once"],
        ),
        ("", ["the file is empty; it needs a header row"]),
        (csv_text(), ["the file has no services under its header"]),
        (
            csv_text(ROW).replace(",", ";"),
            ["header: columns are separated by ';'; save the file as CSV with commas"],
        ),
    ],
)
def test_file_errors(text: str, errors: list[str]) -> None:
    assert parse_csv(text) == ([], errors)


def test_missing_header_column_file(engine: Engine) -> None:
    result = import_csv(engine, DATA / "missing_column.csv")

    assert result.errors == ["header: missing column(s) languages"]
    assert services(engine) == {}


def test_header_in_any_order_with_a_byte_order_mark(engine: Engine) -> None:
    text = (
        "\ufeffstatus,name,organisation,service_type,areas,phones,hours,languages,min_age,"
        "max_age,genders,last_verified\nactive,Maison,Caritas,shelter,Kikwit,,,fr,,,,\n"
    )
    result = import_csv(engine, text)

    assert (result.added, result.errors) == (1, [])
    assert services(engine)["Maison"].genders == "any"


def test_not_utf8_file(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(csv_text(ROW.replace("Maison", "Cité")).encode("latin-1"))

    result = import_csv(engine, path)

    assert result.errors == ["latin1.csv is not UTF-8 text; save it as 'CSV UTF-8'"]


def test_export_import_round_trip(engine: Engine) -> None:
    import_csv(engine, GOOD)
    exported = export_csv(engine)
    first = {
        name: s.model_dump(exclude={"id", "updated_at"}) for name, s in services(engine).items()
    }
    with Session(engine) as session:
        for service in session.exec(select(Service)).all():
            session.delete(service)
        session.commit()

    result = import_csv(engine, exported)

    assert (result.added, result.errors) == (6, [])
    again = {
        name: s.model_dump(exclude={"id", "updated_at"}) for name, s in services(engine).items()
    }
    assert again == first
    assert export_csv(engine) == exported
    assert exported.splitlines()[0] == HEADER
    assert "Maison Espoir,Caritas Kikwit,shelter,Kikwit; Kwilu," in exported
    assert import_csv(engine, exported).unchanged == 6


def test_phone_numbers_are_never_logged(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    import_csv(engine, GOOD)
    result = import_csv(engine, DATA / "two_bad_rows.csv")
    export_csv(engine)
    find(engine, area="Kikwit")

    assert_no_phone_numbers(caplog.text, "\n".join(result.errors), numbers=SERVICE_PHONES)
    assert "000 000" not in caplog.text


# --- hotline directory import / export ---------------------------------------------------


@pytest.fixture
def hotline_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean HOTLINE_* environment, secrets in tmp, run from tmp."""
    monkeypatch.setenv("HOTLINE_SECRETS_FILE", str(tmp_path / "secrets.json"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def cli_env(hotline_env: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI pointed at the test database."""
    monkeypatch.setenv("HOTLINE_DATABASE_URL", database_url)
    return hotline_env


def test_cli_import_and_export(cli_env: Path, engine: Engine) -> None:
    runner = CliRunner()

    imported = runner.invoke(main, ["directory", "import", str(GOOD)])
    assert imported.exit_code == 0, imported.output
    assert imported.stdout == "imported: 6 added, 0 updated\n"

    again = runner.invoke(main, ["directory", "import", str(GOOD)])
    assert again.stdout == "imported: 0 added, 0 updated (6 unchanged)\n"

    exported = runner.invoke(main, ["directory", "export"])
    assert exported.exit_code == 0, exported.output
    assert exported.stdout == export_csv(engine)
    assert exported.stdout.startswith(HEADER + "\n")

    written = runner.invoke(main, ["directory", "export", "directory.csv"])
    assert written.exit_code == 0, written.output
    assert (cli_env / "directory.csv").read_text(encoding="utf-8") == exported.stdout
    assert "directory written to directory.csv" in written.stderr


def test_cli_import_bad_file_exits_1_and_imports_nothing(cli_env: Path, engine: Engine) -> None:
    result = CliRunner().invoke(main, ["directory", "import", str(DATA / "two_bad_rows.csv")])

    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("row 3: service_type 'clinic' is not one of")
    assert lines[1] == "row 5: last_verified '2025-13-01' is not a date (YYYY-MM-DD)"
    assert "2 problem(s); nothing imported" in lines[2]
    assert services(engine) == {}


def test_cli_migrates_an_empty_database(hotline_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = hotline_env / "fresh.db"
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{fresh}")

    result = CliRunner().invoke(main, ["directory", "export"])

    assert result.exit_code == 0, result.output
    assert result.stdout == HEADER + "\n"


def test_export_neutralises_formulas_and_imports_them_back(engine: Engine) -> None:
    assert import_csv(
        engine,
        csv_text(
            '"=HYPERLINK(""http://x"")",@org,shelter,-Kikwit,+243 000 000 100,24/7,fr,,,any,active,'
        ),
    ).ok
    exported = export_csv(engine)
    row = exported.splitlines()[1]
    assert row.startswith('"\'=HYPERLINK(""http://x"")",\'@org,shelter,\'-Kikwit,\'+243 000')
    assert import_csv(engine, exported).unchanged == 1
    stored = services(engine)['=HYPERLINK("http://x")']
    assert (stored.organisation, stored.areas, stored.phones) == (
        "@org",
        "-Kikwit",
        "+243 000 000 100",
    )


def test_an_import_is_audited_with_its_counts(engine: Engine) -> None:
    assert import_csv(engine, GOOD, actor="ada").ok
    assert not import_csv(engine, csv_text(ROW.replace("shelter", "spa"))).ok
    with Session(engine) as session:
        entries = session.exec(select(AuditEntry)).all()
    assert [(e.actor, e.action, e.reason) for e in entries] == [
        ("ada", "import_directory", "6 added, 0 updated, 0 unchanged")
    ]


def test_uploaded_text_is_never_read_as_a_file_name(engine: Engine, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text(csv_text(ROW), encoding="utf-8")
    result = import_text(engine, str(secret), actor="ada")
    assert not result.ok and services(engine) == {}
    assert import_text(engine, "\ufeff" + csv_text(ROW), actor="ada").added == 1
