"""The charts' level ticks: a label for every level that has room, none running into another."""

import itertools

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ecsload.report.charts import WIDTH, level_ticks

SEARCH_RATES = [50, 100, 200, 400, 476, 497, 519, 542, 566, 800]  # a real search's steps


@pytest.mark.parametrize("columns", [1, 2])  # a chart's width, a per-type panel's
def test_tick_labels_of_close_levels_do_not_overlap(columns: int) -> None:
    figure = Figure(figsize=(WIDTH, 3), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.subplots(1, columns, squeeze=False)[0][0]
    ax.plot(SEARCH_RATES, range(len(SEARCH_RATES)))
    level_ticks(ax, SEARCH_RATES)
    figure.canvas.draw()

    shown = [label for label in ax.get_xticklabels() if label.get_text()]
    boxes = sorted((label.get_window_extent() for label in shown), key=lambda box: box.x0)
    assert all(left.x1 <= right.x0 for left, right in itertools.pairwise(boxes))
    texts = [label.get_text() for label in shown]
    assert texts[0] == "50" and texts[-1] == "800" and len(texts) >= 5
    assert len(ax.get_xticks()) == len(SEARCH_RATES)  # every level keeps its tick


def test_levels_far_apart_are_all_labelled() -> None:
    figure = Figure(figsize=(WIDTH, 3), layout="constrained")
    ax = figure.subplots()
    level_ticks(ax, [10, 15, 20, 25])
    assert [label.get_text() for label in ax.get_xticklabels()] == ["10", "15", "20", "25"]
