"""The file source of content: flow files, the areas data beside them, loaded into Content."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content.files import (
    AREAS_FILE,
    Content,
    areas_beside,
    check_flows,
    flow_files,
    load_file,
    read_areas,
)
from bot.engine.areas import AreaDataError
from bot.engine.loader import FlowLoadError
from bot.i18n.catalog import Catalogs
from tests.engine.conftest import CHECK
from tests.engine.test_areas import FLOW as REPORT
from tests.engine.test_areas import SMALL


def test_files_and_folders(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text(CHECK, encoding="utf-8")
    (tmp_path / "a.yml").write_text(CHECK, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a flow", encoding="utf-8")
    assert [p.name for p in flow_files([tmp_path])] == ["a.yml", "b.yaml"]
    unreadable = tmp_path / "bad.yaml"
    unreadable.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(FlowLoadError) as caught:
        load_file(unreadable)
    assert "cannot read file" in str(caught.value)


def test_the_areas_data_is_read_from_beside_the_flows(tmp_path: Path) -> None:
    assert areas_beside(tmp_path) is None
    (tmp_path / "data").mkdir()
    (tmp_path / AREAS_FILE).write_text(SMALL, encoding="utf-8")
    found = areas_beside(tmp_path)
    assert found is not None and found.find("cd-kwilu-kikwit") is not None
    assert found.source.endswith("data/areas.yaml")
    (tmp_path / "report.yaml").write_text(REPORT, encoding="utf-8")
    assert "where__cd_kwilu" in load_file(tmp_path / "report.yaml").definition.states


def test_unreadable_areas_data_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "areas.yaml"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(AreaDataError, match="cannot read areas data"):
        read_areas(path)
    with pytest.raises(AreaDataError, match="cannot read areas data"):
        read_areas(tmp_path / "missing.yaml")


def test_an_area_state_without_areas_data_is_refused_with_file_and_state(
    tmp_path: Path,
) -> None:
    (tmp_path / "report.yaml").write_text(REPORT, encoding="utf-8")
    _, issues = check_flows([tmp_path], Catalogs({"en": {}}))
    [issue] = issues
    assert issue.source.endswith("report.yaml") and issue.state == "where" and issue.line == 5
    assert issue.reason == "an area state needs the areas data"


def test_broken_areas_data_is_refused_naming_its_file(tmp_path: Path) -> None:
    (tmp_path / "report.yaml").write_text(REPORT, encoding="utf-8")
    (tmp_path / "data").mkdir()
    (tmp_path / AREAS_FILE).write_text("countries:\n  - {code: CD, name: Congo}\n", "utf-8")
    _, issues = check_flows([tmp_path], Catalogs({"en": {}}))
    printed = [str(i) for i in issues]
    assert printed[0].endswith(
        "data/areas.yaml: area code 'CD' at country level: use lower-case letters, digits and -"
    )
    assert any("report.yaml:5 state 'where'" in line for line in printed[1:])
    with pytest.raises(FlowLoadError, match=r"data/areas\.yaml: area code 'CD'"):
        load_file(tmp_path / "report.yaml")


def test_shipped_content_carries_its_areas_and_the_formats_built_from_them(
    shipped_content: Content,
) -> None:
    areas = shipped_content.areas
    assert areas is not None and areas.find("ls-maseru") is not None
    formats = shipped_content.registry.formats
    assert sorted(formats) == ["area", "reference"]
    assert formats["area"].normalise("Kikwit") == "cd-kwilu-kikwit"
    assert formats["reference"].normalise("k7qm 46") == "K7QM-46"
