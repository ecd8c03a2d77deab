"""Cubes: every subtotal of counts over nested dimensions, suppressed together with the
cubes that share their margins, so a figure hidden in one table is hidden in all."""

from __future__ import annotations

import pytest

from bot.stats.cube import ROOT, Cube, Dimension, suppress_all
from bot.stats.suppression import HIDDEN


def test_every_subtotal_is_counted_along_each_dimension() -> None:
    time = Dimension("time", {"q1": ROOT, "jan": "q1", "feb": "q1", "q2": ROOT, "apr": "q2"})
    kind = Dimension.flat("kind", ["tip", "screening"])
    cube = Cube.of([kind, time], {("tip", "jan"): 20, ("tip", "apr"): 30, ("screening", "feb"): 40})
    figures = suppress_all([cube])
    assert figures.at(kind="tip", time="q1").value == 20
    assert figures.at(time="q1").value == 60
    assert figures.at().value == 90
    assert figures.at(kind="screening", time="apr").value == 0


def test_a_margin_shared_by_two_cubes_is_hidden_in_both() -> None:
    channel = Dimension.flat("channel", ["ussd", "sms"])
    lang = Dimension.flat("lang", ["fr", "st"])
    by_channel = Cube.of([channel], {("ussd",): 40, ("sms",): 30})
    by_lang = Cube.of([lang], {("fr",): 65, ("st",): 5})
    figures = suppress_all([by_channel, by_lang])
    assert str(figures.at(lang="st")) == HIDDEN
    assert str(figures.at(lang="fr")) == HIDDEN  # else 70 - 65: 65, yet the same mark
    assert figures.at().value == 70  # the grand total, shared, still shows


def test_cubes_that_disagree_on_a_shared_figure_are_refused() -> None:
    a = Cube.of([Dimension.flat("a", ["x"])], {("x",): 20})
    b = Cube.of([Dimension.flat("b", ["y"])], {("y",): 21})
    with pytest.raises(ValueError, match="disagree"):
        suppress_all([a, b])
