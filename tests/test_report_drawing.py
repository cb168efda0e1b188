"""The report's charts drawn by forked helpers beside the report's own process
(ecsload/report/drawing.py): the same SVG as drawn alone, every chart drawn even when a
helper fails, and no helper left behind."""

import os
from pathlib import Path

import numpy as np
import pytest
from matplotlib.artist import Artist
from matplotlib.figure import Figure

from ecsload.report.charts import Chart, svg
from ecsload.report.drawing import drawn


def chart(key: str, seed: int) -> Chart:
    figure = Figure(figsize=(5, 3), layout="constrained")
    ax = figure.add_subplot()
    rng = np.random.default_rng(seed)
    ax.scatter(rng.random(200), rng.random(200), s=3, rasterized=True)
    ax.plot(np.arange(20), rng.random(20))
    ax.set_title(f"chart {key}")
    return Chart(key, key, f"caption of {key}", figure)


class FailsInAnotherProcess(Artist):
    """An artist that cannot be drawn in any process but the one that made it."""

    def __init__(self) -> None:
        super().__init__()
        self.maker = os.getpid()

    def draw(self, renderer: object) -> None:
        if os.getpid() != self.maker:
            raise RuntimeError("drawn in a helper")


def no_children_left() -> bool:
    children = Path(f"/proc/self/task/{os.getpid()}/children").read_text().split()
    return not children


def test_helpers_draw_the_same_svg_as_one_process_in_the_charts_order() -> None:
    charts = [chart(f"c{i}", seed=i) for i in range(5)]
    alone = drawn(charts, workers=1)
    shared = drawn(charts, workers=3)

    assert list(shared) == [c.key for c in charts]
    assert shared == alone
    assert all(text.startswith("<svg") for text in shared.values())
    assert no_children_left()


def test_a_failing_helper_costs_time_not_charts(capfd: pytest.CaptureFixture[str]) -> None:
    charts = [chart(f"c{i}", seed=i) for i in range(4)]
    for each in charts:
        each.figure.axes[0].add_artist(FailsInAnotherProcess())

    shared = drawn(charts, workers=2)

    assert shared == {c.key: svg(c) for c in charts}
    assert "RuntimeError: drawn in a helper" in capfd.readouterr().err  # the helper said why
    assert no_children_left()


def test_one_chart_is_drawn_here_whatever_the_cores() -> None:
    only = chart("only", seed=1)
    assert drawn([only], workers=8) == {"only": svg(only)}
    assert drawn([]) == {}
