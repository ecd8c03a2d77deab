"""The flow drawn as SVG by the server: boxes per state, arrows per way out, other flows."""

from __future__ import annotations

from xml.etree import ElementTree

from bot.content import graph
from bot.engine.loader import load_text
from tests.conftest import ROOT

MAIN = load_text((ROOT / "flows" / "main.yaml").read_text(encoding="utf-8"), "main").definition
SCREENING = load_text(
    (ROOT / "flows" / "screening.yaml").read_text(encoding="utf-8"), "screening"
).definition
SVG = "{http://www.w3.org/2000/svg}"


def test_every_way_out_is_an_arrow_options_to_one_place_merged() -> None:
    edges = graph.edges(MAIN)
    assert graph.Edge("language", "1,2,3,4", "menu") in edges
    assert graph.Edge("menu", "1", "tip:") in edges
    assert graph.Edge("menu", "6", "language") in edges


def test_conditional_ways_are_marked() -> None:
    assert graph.Edge("U3", "*?", "consent") in graph.edges(SCREENING)


def test_rows_follow_the_distance_from_the_start() -> None:
    rows = graph.layers(MAIN, graph.edges(MAIN))
    assert rows[0] == ["language"]
    assert rows[1] == ["menu"]
    assert set(rows[2]) == {"tip:", "screening:", "signs:", "help:", "follow:"}


def test_the_svg_is_well_formed_links_each_state_and_marks_issues() -> None:
    drawn = graph.svg(SCREENING, title="Screening", issues=frozenset({"U2"}))
    root = ElementTree.fromstring(drawn)  # noqa: S314 - the SVG we drew
    assert root.tag == f"{SVG}svg"
    links = [a.get("href", "") for a in root.iter(f"{SVG}a")]
    assert sorted(links) == sorted(f"#state-{name}" for name in SCREENING.states)
    flagged = [a.get("href") for a in root.iter(f"{SVG}a") if "flagged" in (a.get("class") or "")]
    assert flagged == ["#state-U2"]
    assert "<script" not in drawn and "style=" not in drawn


def test_texts_are_escaped_and_shortened() -> None:
    source = (
        'flow: x\nstart: a\nstates:\n  a: {type: end, text: "<b>Tom & Jerry</b> and a long tail"}\n'
    )
    drawn = graph.svg(load_text(source, "x").definition)
    assert "&lt;b&gt;Tom &amp; Jerry" in drawn
    assert "…" in drawn
    ElementTree.fromstring(drawn)  # noqa: S314 - the SVG we drew
