"""Areas: the data people pick places from, and area states expanded into menus."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.areas import AreaDataError, AreaTree, expand, menu_state, parse_areas
from bot.engine.formats import answer_formats
from bot.engine.loader import FlowLoadError, load_text
from bot.engine.model import MenuState

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = parse_areas(
    (ROOT / "flows" / "data" / "areas.yaml").read_text(encoding="utf-8"), "flows/data/areas.yaml"
)
"""The shipped areas data (the engine is given its text; reading files is bot.content's job)."""

FLOW = """
flow: report
start: where
states:
  where:
    type: area
    text: Which country?
    prompts: {province: "Which province?", territory: "Which territory?"}
    unknown: Not sure
    next: done
  done:
    type: end
    text: Thanks.
"""

SMALL = """
countries:
  - code: cd
    name: DR Congo
    below: province
    areas:
      - code: kwilu
        name: Kwilu
        below: territory
        areas:
          - {code: kikwit, name: Kikwit}
          - {code: idiofa, name: Idiofa}
      - {code: kinshasa, name: Kinshasa}
"""


def areas(text: str) -> AreaTree:
    return parse_areas(text, "flows/data/areas.yaml")


def test_shipped_data_covers_the_places_the_hotline_serves() -> None:
    tree = SHIPPED
    countries = {c.code: c for c in tree.countries}
    assert set(countries) == {"cd", "gn", "ls"}
    assert len(countries["cd"].areas) == 26  # DR Congo's provinces since 2015
    kwilu = tree.find("cd-kwilu")
    assert kwilu is not None and kwilu.below == "territory"
    assert {a.name for a in kwilu.areas} >= {
        "Bagata",
        "Bulungu",
        "Gungu",
        "Idiofa",
        "Masi-Manimba",
        "Kikwit (ville)",
    }
    assert len(countries["gn"].areas) == 8  # Guinea's regions, Conakry included
    assert len(countries["ls"].areas) == 10  # Lesotho's districts
    assert tree.find("ls-mohales-hoek") is not None


def test_codes_join_down_the_tree_and_paths_lead_back_up() -> None:
    tree = SHIPPED
    assert [a.name for a in tree.path("cd-kwilu-kikwit")] == ["DR Congo", "Kwilu", "Kikwit (ville)"]
    assert tree.path("nowhere") == []
    assert tree.find("nowhere") is None


def test_place_names_fit_gsm7_as_written() -> None:
    tree = SHIPPED
    names = [a.name for a in tree.places()]
    assert all(name.isascii() for name in names)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("countries: {}", "list of 'countries'"),
        ("countries:\n  - {code: cd}", "needs a code and a name"),
        ("countries:\n  - {code: CD, name: Congo}", "lower-case"),
        ("countries:\n  - {code: cd, name: Congo}\n  - {code: cd, name: Again}", "defined twice"),
        ("countries:\n  - {code: cd, name: Congo, areas: [{code: a, name: A}]}", "'below'"),
        ("countries:\n  - {code: cd, name: Congo, capital: x}", "unknown keys"),
        ("countries: [", "cannot read"),
    ],
)
def test_broken_data_is_refused_with_the_place(text: str, reason: str) -> None:
    with pytest.raises(AreaDataError, match=reason):
        areas(text)


def test_area_state_becomes_one_menu_per_level() -> None:
    loaded = load_text(FLOW, "flows/report.yaml", areas(SMALL))
    states = loaded.definition.states
    country = states["where"]
    assert isinstance(country, MenuState)
    assert [o.label for o in country.options] == ["DR Congo", "Not sure"]
    assert country.options[0].translate and country.options[0].next == "where__cd"
    provinces = states["where__cd"]
    assert isinstance(provinces, MenuState)
    assert provinces.text == "Which province?"
    assert [(o.label, o.translate, o.next) for o in provinces.options] == [
        ("Kwilu", False, "where__cd_kwilu"),
        ("Kinshasa", False, "done"),
        ("Not sure", True, "done"),
    ]
    # "Not sure" below a place records that place: the report keeps what the person knew.
    assert provinces.options[2].do == [{"record": {"id": "area", "value": "cd"}}]
    territories = states[menu_state("where", areas(SMALL).countries[0].areas[0])]
    assert isinstance(territories, MenuState) and territories.text == "Which territory?"
    assert loaded.lines["where__cd_kwilu"] == loaded.lines["where"]


def test_flow_version_changes_with_the_data() -> None:
    first = load_text(FLOW, "flows/report.yaml", areas(SMALL)).version
    more = SMALL + "  - {code: gn, name: Guinea}\n"
    assert load_text(FLOW, "flows/report.yaml", areas(more)).version != first


def test_a_level_without_a_prompt_is_refused_with_file_and_state() -> None:
    data = areas(SMALL.replace("below: territory", "below: district"))
    with pytest.raises(FlowLoadError) as caught:
        load_text(FLOW, "flows/report.yaml", data)
    (issue,) = caught.value.issues
    assert issue.source == "flows/report.yaml" and issue.state == "where"
    assert issue.reason.startswith("flows/data/areas.yaml: ")
    assert "no prompt for level 'district'" in issue.reason


def test_an_area_state_without_data_is_refused() -> None:
    with pytest.raises(FlowLoadError, match="an area state needs"):
        load_text(FLOW, "flows/report.yaml")


def test_expanding_again_changes_nothing() -> None:
    loaded = load_text(FLOW, "f.yaml", areas(SMALL))
    again = expand(loaded.definition, areas(SMALL))
    assert again.states == loaded.definition.states


# --- centres (`at`), the nearest place and places by name ----------------------------------


def test_shipped_centres_cover_every_province_region_and_district() -> None:
    tree = SHIPPED
    for country in tree.countries:
        for area in country.areas:
            assert area.at is not None, area.code
    for parent in ("cd-kwilu", "cd-kinshasa"):
        found = tree.find(parent)
        assert found is not None and all(a.at is not None for a in found.areas)


@pytest.mark.parametrize(
    ("point", "code"),
    [
        ((-5.04, 18.83), "cd-kwilu-kikwit"),
        ((-5.70, 19.30), "cd-kwilu-gungu"),
        ((-4.31, 15.29), "cd-kinshasa-lukunga"),  # a province's centre: down to its district
        ((-4.81, 16.90), "cd-kwango"),
        ((-29.31, 27.49), "ls-maseru"),
        ((9.52, -13.70), "gn-conakry-kaloum"),
        ((-11.60, 27.50), "cd-haut-katanga"),
    ],
)
def test_a_point_is_placed_in_the_nearest_place(point: tuple[float, float], code: str) -> None:
    found = SHIPPED.nearest(*point)
    assert found is not None and found.code == code


def test_a_point_far_from_every_centre_is_not_placed() -> None:
    tree = SHIPPED
    assert tree.nearest(48.85, 2.35) is None
    assert tree.nearest(-5.04, 18.83, max_km=0.001) is None


def test_centres_are_checked() -> None:
    good = SMALL.replace(
        "{code: kikwit, name: Kikwit}", "{code: kikwit, name: Kikwit, at: [-5, 18.8]}"
    )
    assert areas(good).find("cd-kwilu-kikwit").at == (-5.0, 18.8)  # type: ignore[union-attr]
    for bad in ("[1]", "[91, 0]", "[0, 181]", "[a, b]", "5", "[true, 1]"):
        text = SMALL.replace(
            "{code: kikwit, name: Kikwit}", f"{{code: kikwit, name: Kikwit, at: {bad}}}"
        )
        with pytest.raises(AreaDataError, match="cd-kwilu-kikwit"):
            areas(text)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("cd-kwilu-kikwit", "cd-kwilu-kikwit"),
        ("Kikwit", "cd-kwilu-kikwit"),
        ("  KIKWIT (ville) ", "cd-kwilu-kikwit"),
        ("kindia", "gn-kindia"),  # the region before its prefecture of the same name
        ("Qacha's Nek", "ls-qachas-nek"),
        ("mont-amba", "cd-kinshasa-mont-amba"),
    ],
)
def test_a_place_is_found_by_code_or_name(text: str, code: str) -> None:
    found = SHIPPED.lookup(text)
    assert found is not None and found.code == code


@pytest.mark.parametrize("text", ["", "   ", "Atlantis", "cd-"])
def test_an_unknown_place_is_none(text: str) -> None:
    assert SHIPPED.lookup(text) is None


def test_the_area_format_takes_a_known_place_and_stores_its_code() -> None:
    area = answer_formats(SHIPPED)["area"]
    assert area.normalise("Gungu") == "cd-kwilu-gungu"
    assert area.normalise("ls-maseru") == "ls-maseru"
    assert area.normalise("nowhere at all") is None


def test_the_area_format_knows_only_the_places_it_was_given() -> None:
    """Formats come with the content: another tree, other places; none, no area format."""
    assert answer_formats(areas(SMALL))["area"].normalise("Gungu") is None
    assert answer_formats(areas(SMALL))["area"].normalise("idiofa") == "cd-kwilu-idiofa"
    assert "area" not in answer_formats(None)
    assert "area" not in answer_formats()


def test_depth_is_the_level_even_when_a_code_has_dashes() -> None:
    tree = SHIPPED
    levels = {
        code: area.depth
        for code in ("cd", "cd-kasai-central", "cd-kwilu-masi-manimba", "ls-mohales-hoek")
        if (area := tree.find(code)) is not None
    }
    assert levels == {
        "cd": 1,
        "cd-kasai-central": 2,
        "cd-kwilu-masi-manimba": 3,
        "ls-mohales-hoek": 2,
    }
    assert [a.code for a in tree.places()][:2] == ["cd", "cd-bas-uele"]
