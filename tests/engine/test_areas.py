"""Areas: the data file people pick places from, and area states expanded into menus."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.areas import AreaDataError, expand, load_areas, menu_state
from bot.engine.loader import FlowLoadError, load_text
from bot.engine.model import MenuState

ROOT = Path(__file__).resolve().parents[2]
AREAS = ROOT / "flows" / "data" / "areas.yaml"

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


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "areas.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_data_covers_the_places_the_hotline_serves() -> None:
    tree = load_areas(AREAS)
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
    tree = load_areas(AREAS)
    assert [a.name for a in tree.path("cd-kwilu-kikwit")] == ["DR Congo", "Kwilu", "Kikwit (ville)"]
    assert tree.path("nowhere") == []
    assert tree.find("nowhere") is None


def test_place_names_fit_gsm7_as_written() -> None:
    tree = load_areas(AREAS)
    names = [a.name for c in tree.countries for a in c.walk()]
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
def test_broken_data_is_refused_with_the_place(tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(AreaDataError, match=reason):
        load_areas(write(tmp_path, text))


def test_area_state_becomes_one_menu_per_level(tmp_path: Path) -> None:
    loaded = load_text(FLOW, "flows/report.yaml", write(tmp_path, SMALL))
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
    territories = states[menu_state("where", load_areas(write(tmp_path, SMALL)).countries[0].areas[0])]
    assert isinstance(territories, MenuState) and territories.text == "Which territory?"
    assert loaded.lines["where__cd_kwilu"] == loaded.lines["where"]


def test_flow_version_changes_with_the_data(tmp_path: Path) -> None:
    first = load_text(FLOW, "flows/report.yaml", write(tmp_path, SMALL)).version
    more = SMALL + "  - {code: gn, name: Guinea}\n"
    assert load_text(FLOW, "flows/report.yaml", write(tmp_path, more)).version != first


def test_a_level_without_a_prompt_is_refused_with_file_and_state(tmp_path: Path) -> None:
    data = write(tmp_path, SMALL.replace("below: territory", "below: district"))
    with pytest.raises(FlowLoadError) as caught:
        load_text(FLOW, "flows/report.yaml", data)
    (issue,) = caught.value.issues
    assert issue.file == "flows/report.yaml" and issue.state == "where"
    assert "no prompt for level 'district'" in issue.reason


def test_an_area_state_without_data_is_refused() -> None:
    with pytest.raises(FlowLoadError, match="an area state needs"):
        load_text(FLOW, "flows/report.yaml")


def test_expanding_again_changes_nothing(tmp_path: Path) -> None:
    loaded = load_text(FLOW, "f.yaml", write(tmp_path, SMALL))
    again = expand(loaded.definition, load_areas(write(tmp_path, SMALL)))
    assert again.states == loaded.definition.states
