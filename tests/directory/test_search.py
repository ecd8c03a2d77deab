"""Finding who can help: active services by area, type, language, age and gender."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from bot.core.db import make_engine
from bot.directory.csv_io import import_csv
from bot.directory.search import area_and_above, find
from bot.engine.areas import parse_areas
from bot.models import Service
from tests.directory import GOOD


def names(found: list[Service]) -> list[str]:
    """The names of services, in order."""
    return [s.name for s in found]


def test_find_filters_active_services(engine: Engine) -> None:
    import_csv(engine, GOOD)

    assert names(find(engine)) == [
        "Legal aid Maseru",
        "Centre médical Bondeko",
        "Youth listening centre",
        "Maison Espoir",
    ]
    assert names(find(engine, area="KIKWIT")) == ["Centre médical Bondeko", "Maison Espoir"]
    assert names(find(engine, area=" kwilu ")) == ["Maison Espoir"]
    assert names(find(engine, area="Kik")) == []
    assert names(find(engine, service_type="shelter")) == ["Maison Espoir"]
    assert names(find(engine, lang="en")) == [
        "Legal aid Maseru",
        "Centre médical Bondeko",
        "Youth listening centre",
    ]
    assert names(find(engine, age=16)) == [
        "Centre médical Bondeko",
        "Youth listening centre",
        "Maison Espoir",
    ]
    assert names(find(engine, age=17)) == names(find(engine, age=16))
    assert names(find(engine, age=30)) == ["Legal aid Maseru", "Centre médical Bondeko"]
    assert names(find(engine, gender="male")) == [
        "Legal aid Maseru",
        "Centre médical Bondeko",
        "Youth listening centre",
    ]
    assert names(find(engine, gender="female")) == [
        "Legal aid Maseru",
        "Centre médical Bondeko",
        "Maison Espoir",
    ]
    assert names(find(engine, area="maseru", lang="st", age=20, gender="male")) == [
        "Legal aid Maseru",
        "Youth listening centre",
    ]


def test_find_skips_paused_and_closed(engine: Engine) -> None:
    import_csv(engine, GOOD)

    assert find(engine, service_type="police") == []
    assert find(engine, area="Conakry") == []
    paused = GOOD.read_text(encoding="utf-8").replace(",any,paused,", ",any,active,")
    import_csv(engine, paused)
    assert names(find(engine, service_type="police")) == ["Police desk Kikwit"]


@pytest.mark.parametrize(
    "filters",
    [{"service_type": "clinic"}, {"lang": "sw"}, {"gender": "any"}],
)
def test_find_refuses_unknown_filter_values(filters: dict[str, str]) -> None:
    unmigrated = make_engine("sqlite://")
    with pytest.raises(ValueError, match="is not"):
        find(unmigrated, **filters)  # type: ignore[arg-type]
    unmigrated.dispose()


AREAS = parse_areas(
    """
countries:
  - code: cd
    name: DR Congo
    below: province
    areas:
      - code: kwilu
        name: Kwilu
        below: territory
        areas:
          - {code: kikwit, name: Kikwit (ville)}
      - {code: kinshasa, name: Kinshasa}
""",
    "test",
)


def test_a_place_is_named_with_the_places_above_it() -> None:
    assert area_and_above("cd-kwilu-kikwit", AREAS) == [
        {"cd-kwilu-kikwit", "kikwit (ville)", "kikwit"},
        {"cd-kwilu", "kwilu"},
        {"cd", "dr congo"},
    ]
    assert area_and_above("Kikwit", AREAS)[0] == {"cd-kwilu-kikwit", "kikwit (ville)", "kikwit"}
    assert area_and_above("Atlantis", AREAS) == [{"atlantis"}]
    assert area_and_above("Kikwit") == [{"kikwit"}]


def test_find_with_the_areas_data_adds_services_above_nearest_first(engine: Engine) -> None:
    import_csv(engine, GOOD)  # Maison Espoir: Kikwit, Kwilu; Centre médical: Kinshasa, Kikwit
    national = GOOD.read_text(encoding="utf-8").replace(
        "Police desk Kikwit,PNC Kikwit,police,Kikwit,", "Police desk Kikwit,PNC Kikwit,police,cd,"
    )
    import_csv(engine, national.replace(",any,paused,", ",any,active,"))
    assert names(find(engine, area="cd-kwilu-kikwit")) == []
    assert names(find(engine, area="cd-kwilu-kikwit", tree=AREAS)) == [
        "Centre médical Bondeko",
        "Maison Espoir",
        "Police desk Kikwit",
    ]
    assert names(find(engine, area="cd-kwilu", tree=AREAS)) == [
        "Maison Espoir",
        "Police desk Kikwit",
    ]
    assert names(find(engine, area="cd-kinshasa", tree=AREAS, service_type="police")) == [
        "Police desk Kikwit"
    ]
