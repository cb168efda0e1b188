"""The charts' level ticks (a label for every level that has room, none running into another),
their hollow markers and dotted lines: a figure from too few answers never looks like a
measurement."""

import itertools
from typing import Any

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from ecsload.analysis.sample_size import too_few
from ecsload.analysis.samples import Samples
from ecsload.report.charts import WIDTH, level_chart, level_ticks, probe_chart

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


def hollow_points(chart_axes: Any) -> dict[str, list[tuple[float, float]]]:
    """The points drawn hollow (a white face), by their colour: where a figure is from too
    few answers."""
    found: dict[str, list[tuple[float, float]]] = {}
    for line in chart_axes.get_lines():
        if line.get_markerfacecolor() == "white":
            colour = to_hex(line.get_color())
            found.setdefault(colour, []).extend(
                zip(line.get_xdata(), line.get_ydata(), strict=True)
            )
    return found


def probe_level(users: int, probe_answers: int, noop_answers: int) -> dict[str, Any]:
    """A level whose probe and NoOp have this many answers, `few` as summary.json marks it."""

    def figures(answers: int, p50: float) -> dict[str, Any]:
        return {
            "p50": p50,
            "p99": p50 * 2,
            "answers": answers,
            "few": too_few(answers, ("p50", "p99")),
        }

    return {
        "users": users,
        "types": {"NoOp": figures(noop_answers, 3.0)},
        "probe": {"count": probe_answers, **figures(probe_answers, 2.0)},
    }


def test_the_probe_chart_draws_a_percentile_from_too_few_answers_hollow() -> None:
    """A probe of 4 answers (too few for either percentile), then 40 (enough for p50, not
    p99), then 2000 (enough for both); NoOp the other way round."""
    levels = [probe_level(10, 4, 2000), probe_level(20, 40, 40), probe_level(30, 2000, 4)]
    ax = probe_chart(levels).figure.axes[0]
    hollow = hollow_points(ax)
    black, red = to_hex("black"), to_hex("tab:red")
    assert sorted(hollow[black]) == [(10, 2.0), (10, 4.0), (20, 4.0)]  # probe p50, p99; p99
    assert sorted(hollow[red]) == [(20, 6.0), (30, 3.0), (30, 6.0)]  # NoOp p99; p50, p99


def test_the_probe_chart_draws_no_hollow_point_where_every_figure_has_its_answers() -> None:
    levels = [probe_level(10, 2000, 2000), probe_level(20, 5000, 5000)]
    assert hollow_points(probe_chart(levels).figure.axes[0]) == {}


def test_a_trend_from_too_few_answers_is_drawn_dotted_and_said_so() -> None:
    """A level of 8 NoOp answers (a slope from 8 points is a guess) and 100 Tasks answers, each
    type climbing 1 ms a second: NoOp's fitted line dotted and thin, Tasks' solid."""
    names, counts = ("NoOp", "Tasks-Happy-Path"), (8, 100)
    codes = np.repeat(np.arange(2, dtype=np.int16), counts)
    sent = np.concatenate([np.linspace(0, 10_000, n) for n in counts])
    samples = Samples(
        timestamp_ms=sent.astype(np.int64), type_code=codes, type_names=names,
        user_id=np.ones(sent.size, dtype=np.int64), ok=np.ones(sent.size, dtype=bool),
        status=np.full(sent.size, 200, dtype=np.int16), response_time_ms=5 + sent / 1000,
        measured=np.ones(sent.size, dtype=bool), error=np.full(sent.size, b""),
        late_ms=np.zeros(sent.size),
    )  # fmt: skip
    types = {
        name: {"answers": n, "m": 1.0, "b": 5.0} for name, n in zip(names, counts, strict=True)
    }
    colours = {"NoOp": "tab:blue", "Tasks-Happy-Path": "tab:orange"}
    chart = level_chart({"users": 2, "types": types, "stalls": None}, samples, colours)
    [ax] = chart.figure.axes
    lines = {to_hex(line.get_color()): line for line in ax.get_lines()}
    assert lines[to_hex("tab:blue")].get_linestyle() == ":"
    assert lines[to_hex("tab:orange")].get_linestyle() == "-"
    legend = [text.get_text() for text in chart.figure.legends[0].get_texts()]
    assert "dotted: a trend from < 20 answers" in legend
    assert "dotted, a type's trend from fewer than 20 answers" in chart.caption

    types["NoOp"]["answers"] = 20  # what a p50 needs: enough
    chart = level_chart({"users": 2, "types": types, "stalls": None}, samples, colours)
    assert {line.get_linestyle() for line in chart.figure.axes[0].get_lines()} == {"-"}
    assert not any("dotted" in t.get_text() for t in chart.figure.legends[0].get_texts())
