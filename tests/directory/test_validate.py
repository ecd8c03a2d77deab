"""One validator for a service, whether it comes from a CSV row, a form or a JSON body."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.directory.validate import (
    FIELDS,
    InvalidService,
    ServiceFields,
    check_service,
    split_list,
    validate_service,
)
from bot.models import Service

TODAY = date(2026, 11, 22)
FORM = {
    "name": " Maison Espoir ",
    "organisation": "Caritas Kikwit",
    "service_type": "Shelter",
    "areas": "Kikwit; Kwilu; kikwit",
    "phones": "+243 000 000 100",
    "hours": "24/7",
    "languages": "FR; ln",
    "min_age": "",
    "max_age": "17",
    "genders": "Female",
    "status": "active",
    "last_verified": "2025-09-01",
}
"""A service as a form or a CSV row gives it: every value text."""
JSON: dict[str, Any] = {
    "name": "Maison Espoir",
    "organisation": "Caritas Kikwit",
    "service_type": "shelter",
    "areas": ["Kikwit", "Kwilu"],
    "phones": "+243 000 000 100",
    "hours": "24/7",
    "languages": ["fr", "ln"],
    "max_age": 17,
    "genders": "female",
    "status": "active",
    "last_verified": date(2025, 9, 1),
}
"""The same service as a JSON body gives it: lists, numbers, a date; blanks left out."""


def test_text_and_typed_values_give_the_same_service() -> None:
    from_form = validate_service(FORM, today=TODAY)
    assert from_form == validate_service(JSON, today=TODAY)
    assert from_form == ServiceFields(
        name="Maison Espoir",
        organisation="Caritas Kikwit",
        service_type="shelter",
        areas=("Kikwit", "Kwilu"),
        phones="+243 000 000 100",
        hours="24/7",
        languages=("fr", "ln"),
        min_age=None,
        max_age=17,
        genders="female",
        status="active",
        last_verified=date(2025, 9, 1),
    )
    assert from_form.key == ("maison espoir", "caritas kikwit")


def test_the_fields_are_the_csv_columns_and_the_table_columns() -> None:
    assert tuple(ServiceFields.__dataclass_fields__) == FIELDS
    assert set(FIELDS) <= set(Service.model_fields)


def test_a_stored_service_round_trips() -> None:
    checked = validate_service(JSON, today=TODAY)
    service = Service(**checked.columns())
    assert (service.areas, service.languages) == ("Kikwit,Kwilu", "fr,ln")
    assert ServiceFields.of(service) == checked
    assert not checked.apply_to(service)
    moved = validate_service({**JSON, "areas": ["Bulungu"], "status": "paused"}, today=TODAY)
    assert moved.apply_to(service)
    assert (service.areas, service.status) == ("Bulungu", "paused")
    assert split_list(" a, ,b ,") == ["a", "b"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": ""}, "name", "name is required"),
        ({"name": None}, "name", "name is required"),
        ({"organisation": 42}, "organisation", "organisation must be text"),
        ({"hours": "h" * 201}, "hours", "hours is longer than 200 characters"),
        ({"service_type": "clinic"}, "service_type", "service_type 'clinic' is not one of"),
        ({"areas": []}, "areas", "areas is required"),
        ({"areas": " ; "}, "areas", "areas is required"),
        ({"areas": ["Kikwit, Kwilu"]}, "areas", "area 'Kikwit, Kwilu' contains a comma"),
        ({"areas": 3}, "areas", "areas must be a list or text separated by ';'"),
        ({"areas": ["a" * 600, "b" * 600]}, "areas", "areas is longer than 1000 characters"),
        ({"languages": ["fr", "sw"]}, "languages", "language 'sw' is not one of en, fr, ln, st"),
        ({"min_age": "ten"}, "min_age", "min_age 'ten' is not an age"),
        ({"max_age": 121}, "max_age", "max_age '121' is not an age"),
        ({"max_age": True}, "max_age", "max_age is not an age"),
        ({"min_age": 18, "max_age": 12}, "min_age", "min_age 18 is greater than max_age 12"),
        ({"genders": "women"}, "genders", "genders 'women' is not one of any, female, male"),
        ({"status": ""}, "status", "status is required"),
        ({"status": "open"}, "status", "status 'open' is not one of active, paused, closed"),
        ({"last_verified": "01/09/2025"}, "last_verified", "is not a date (YYYY-MM-DD)"),
        ({"last_verified": date(2026, 11, 24)}, "last_verified", "'2026-11-24' is in the future"),
        ({"opening": "9-5"}, "opening", "opening is not a field of a service"),
    ],
)
def test_each_problem_names_its_field(change: dict[str, Any], field: str, message: str) -> None:
    checked, errors = check_service({**JSON, **change}, today=TODAY)
    assert checked is None
    assert [e.field for e in errors] == [field]
    assert message in str(errors[0])
    with pytest.raises(InvalidService) as refused:
        validate_service({**JSON, **change}, today=TODAY)
    assert refused.value.errors == tuple(errors)
    assert isinstance(refused.value, ValueError)


def test_every_problem_is_reported_at_once_and_no_phone_is_quoted() -> None:
    _, errors = check_service(
        {"phones": "+243 000 000 100", "hours": "x" * 300, "genders": "?"}, today=TODAY
    )
    assert [e.field for e in errors] == [
        "name",
        "organisation",
        "service_type",
        "areas",
        "hours",
        "genders",
        "status",
    ]
    assert all("000 000" not in e.message for e in errors)


def test_blank_optional_fields_have_defaults() -> None:
    checked = validate_service(
        {
            "name": "Desk",
            "organisation": "Police",
            "service_type": "police",
            "areas": "Kikwit",
            "status": "active",
        },
        today=TODAY,
    )
    assert (checked.phones, checked.languages, checked.genders) == ("", (), "any")
    assert (checked.min_age, checked.max_age, checked.last_verified) == (None, None, None)
    tomorrow = validate_service({**JSON, "last_verified": "2026-11-23"}, today=TODAY)
    assert tomorrow.last_verified == date(2026, 11, 23), "a day ahead is a time zone, not an error"
