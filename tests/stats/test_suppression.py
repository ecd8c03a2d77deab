"""The suppression rule, table by table, against results worked out by hand.

Each case is a small table of counts; the expected table is what may be shown: a cell from 1
to 10 is hidden (primary), zeros show, and more cells are hidden until no row, column or total
gives a hidden one away (secondary); every hidden cell shows the one mark ``HIDDEN``. The last
column and last row are the totals.
"""

from __future__ import annotations

import pytest

from bot.stats.cube import Cube, Dimension, suppress_all
from bot.stats.suppression import HIDDEN, THRESHOLD, Count, Line, rate, shown, suppress

H = HIDDEN


def table(rows: list[list[int]]) -> list[list[str]]:
    """``rows`` with their totals, as shown after suppression."""
    r = Dimension.flat("r", [f"r{i}" for i in range(len(rows))])
    c = Dimension.flat("c", [f"c{j}" for j in range(len(rows[0]))])
    counts: dict[tuple[str, ...], int] = {
        (f"r{i}", f"c{j}"): v for i, row in enumerate(rows) for j, v in enumerate(row)
    }
    figures = suppress_all([Cube.of([r, c], counts)])
    out = [
        [str(figures.at(r=f"r{i}", c=f"c{j}")) for j in range(len(row))]
        + [str(figures.at(r=f"r{i}"))]
        for i, row in enumerate(rows)
    ]
    out.append([str(figures.at(c=f"c{j}")) for j in range(len(rows[0]))] + [str(figures.at())])
    return out


CASES = {
    "nothing small: everything shows": (
        [[20, 30], [40, 50]],
        [["20", "30", "50"], ["40", "50", "90"], ["60", "80", "140"]],
    ),
    "zeros show, they identify nobody": (
        [[0, 30], [40, 0]],
        [["0", "30", "30"], ["40", "0", "40"], ["40", "30", "70"]],
    ),
    # 5 is primary; its row (35) and column (45) would give it away, so 30 and 40 go too;
    # then 50 closes the square: each hidden cell has a hidden partner in its row and column.
    "primary and secondary across a row and a column": (
        [[5, 30], [40, 50]],
        [[H, H, "35"], [H, H, "90"], ["45", "80", "125"]],
    ),
    # 3 and 4 are both small; hidden together their row total would still say 3 + 4 = 7:
    # a hidden sum under 11 is a count under 11, so 50 is hidden too; the columns follow.
    "two small cells whose sum the total would reveal": (
        [[3, 4, 50], [20, 30, 40]],
        [[H, H, H, "57"], [H, H, H, "90"], ["23", "34", "90", "147"]],
    ),
    # a total from 1 to 10 is hidden like any count: the row of 3 and zeros is 3 again.
    "a total that would reveal a cell": (
        [[3, 0, 0], [40, 20, 30]],
        [[H, "0", "0", H], [H, "20", "30", H], ["43", "20", "30", "93"]],
    ),
    # a single column: the row totals are the cells again, so they hide with them.
    "one column: the grand total stays, its parts do not": (
        [[3], [40]],
        [[H, H], [H, H], ["43", "43"]],
    ),
    # hiding the cheapest partner: 25 (row) and 12, 14 (columns) close the rectangle rather
    # than spreading into the middle row.
    "secondary cells chosen to close a rectangle": (
        [[5, 30, 25], [40, 50, 60], [12, 13, 14]],
        [
            [H, "30", H, "60"],
            ["40", "50", "60", "150"],
            [H, "13", H, "39"],
            ["57", "93", "99", "249"],
        ],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_rule_on_hand_computed_tables(name: str) -> None:
    counts, expected = CASES[name]
    assert table(counts) == expected


def test_ten_is_hidden_and_eleven_shows() -> None:
    assert THRESHOLD == 11
    assert [str(shown(n, False)) for n in (0, 1, 10, 11, 12)] == ["0", H, H, "11", "12"]
    assert str(shown(500, True)) == H  # a secondary cell
    assert shown(7, False).value is None  # nothing of a hidden count is kept to leak


def test_a_secondary_count_in_the_hundreds_has_the_same_mark_as_a_small_one() -> None:
    values = {"fr": 300, "en": 200, "st": 5, "all": 505}
    hidden = suppress(values, [Line(("fr", "en", "st"), "all")])
    assert hidden == {"en", "st"}  # en too: else 505 - 300 - 200 = 5
    marks = {key: str(shown(value, key in hidden)) for key, value in values.items()}
    assert marks == {"fr": "300", "en": H, "st": H, "all": "505"}
    assert H == "[c]"  # neither "<11" (false for 200) nor a mark of its own (it would pin st)
    assert not any(ch.isdigit() for ch in H)


def test_no_hidden_cell_can_be_worked_out_from_a_line() -> None:
    rows = [[1, 2, 3, 40], [0, 11, 9, 12], [7, 0, 0, 100]]
    shown_table = table(rows)
    full = [[*row, sum(row)] for row in rows]
    full.append([sum(col) for col in zip(*full, strict=True)])
    lines = [*shown_table, *map(list, zip(*shown_table, strict=True))]
    values = [*full, *map(list, zip(*full, strict=True))]
    for line, numbers in zip(lines, values, strict=True):
        hidden = [n for text, n in zip(line, numbers, strict=True) if text == H]
        assert len(hidden) != 1, line
        if hidden and line[-1] != H:
            assert sum(hidden) >= THRESHOLD, line


def test_a_rate_on_a_hidden_count_is_hidden() -> None:
    assert rate(Count(None), Count(100)) is None
    assert rate(Count(50), Count(None)) is None
    assert rate(Count(0), Count(0)) is None
    assert rate(Count(25), Count(100)) == 0.25


def test_lines_that_do_not_add_up_are_refused() -> None:
    with pytest.raises(ValueError, match="does not add up"):
        suppress({"a": 1, "b": 2, "t": 4}, [Line(("a", "b"), "t")])
