"""The report's charts built and drawn by forked helpers beside the report's own process
(ecsload/report/drawing.py): the same SVG as drawn alone, in the given order, every chart
drawn even when a helper fails, and no helper left behind."""

import os
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from ecsload.report.charts import Chart, DrawnChart, drawn_chart
from ecsload.report.drawing import drawn


def chart(key: str, seed: int) -> Chart:
    figure = Figure(figsize=(5, 3), layout="constrained")
    ax = figure.add_subplot()
    rng = np.random.default_rng(seed)
    ax.scatter(rng.random(200), rng.random(200), s=3, rasterized=True)
    ax.plot(np.arange(20), rng.random(20))
    ax.set_title(f"chart {key}")
    return Chart(key, key, f"caption of {key}", figure)


def built_here_only(key: str, seed: int, maker: int) -> Chart:
    """A chart that cannot be built in any process but `maker`."""
    if os.getpid() != maker:
        raise RuntimeError("built in a helper")
    return chart(key, seed)


def no_children_left() -> bool:
    children = Path(f"/proc/self/task/{os.getpid()}/children").read_text().split()
    return not children


def test_helpers_draw_the_same_svg_as_one_process_in_the_charts_order() -> None:
    builds = [partial(chart, f"c{i}", i) for i in range(5)]
    builds.insert(2, lambda: "no samples")  # a chart that is not there says why
    alone = drawn(builds, workers=1)
    shared = drawn(builds, workers=3)

    assert shared == alone
    assert [c.key if isinstance(c, DrawnChart) else c for c in shared] == [
        "c0", "c1", "no samples", "c2", "c3", "c4",
    ]  # fmt: skip
    assert shared[0] == DrawnChart("c0", "c0", "caption of c0", drawn_chart(chart("c0", 0)).svg)
    assert all(c.svg.startswith("<svg") for c in shared if isinstance(c, DrawnChart))
    assert no_children_left()


def test_a_failing_helper_costs_time_not_charts(capfd: pytest.CaptureFixture[str]) -> None:
    builds = [partial(built_here_only, f"c{i}", i, os.getpid()) for i in range(4)]

    shared = drawn(builds, workers=2)

    assert shared == [drawn_chart(chart(f"c{i}", i)) for i in range(4)]
    assert "RuntimeError: built in a helper" in capfd.readouterr().err  # the helper said why
    assert no_children_left()


def test_one_chart_is_drawn_here_whatever_the_cores() -> None:
    assert drawn([partial(built_here_only, "only", 1, os.getpid())], workers=8) == [
        drawn_chart(chart("only", 1))
    ]
    assert drawn([]) == []
