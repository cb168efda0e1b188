"""The report's charts, drawn with matplotlib at report time: inline SVG, or the pages of a PDF.

One `Chart` is one figure, a chart group: the sweep against users (throughput,
latency, latency by request type, errors, the probe beside the model's NoOp,
the generator) and, per level, response time against time since the level
started, with each type's fitted line: the original harness's graphs.

Every figure of the sweep comes from summary.json, and the fitted lines from
its m and b; only the per-level scatter reads samples.csv, and it draws a sample
of them (at most MAX_DOTS): the statistics are always over every request.
"""

import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, cast

import matplotlib
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.typing import LineStyleType, RcKeyType

from ecsload.analysis.documents import level_key
from ecsload.analysis.generator import GENERATOR_BUSY_PERCENT
from ecsload.analysis.sample_size import TREND_ANSWERS, marked, trend_too_few
from ecsload.analysis.samples import Samples
from ecsload.report.tables import level_label
from ecsload.run_folder import level_name

MAX_DOTS = 4000  # dots in one level's scatter
SLOWEST_KEPT = 10  # each type's slowest samples are always drawn, so its max shows
LOG_SCALE_SPREAD = 100  # the slowest dot over the median one that switches to a log axis
WIDTH = 5.0  # inches; the HTML scales the SVG to its column (narrow windows: one column)
SCATTER_DPI = 110  # the scatter's dots are a raster inside the SVG: small and fast
PDF_SCALE = 2.0  # a PDF page is the inline chart twice as large, same fonts: 10 in wide
LEGEND_COLUMNS = 2  # every legend sits under its plot (outside it), in this many columns
STYLE: dict[RcKeyType, Any] = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "svg.hashsalt": "ecs-load",  # the same run draws the same SVG
}
STALL_COLOUR = "red"
PERCENTILE_STYLES: tuple[tuple[str, LineStyleType, str], ...] = (
    ("p50", "-", "o"),
    ("p95", "--", "s"),
    ("p99", ":", "^"),
)


@dataclass(frozen=True)
class Chart:
    """One figure: its id (an HTML anchor), what it shows, and how to read it."""

    key: str
    title: str
    caption: str
    figure: Figure


@dataclass(frozen=True)
class DrawnChart:
    """A chart as the page shows it: its Chart's id, title and caption, and its SVG."""

    key: str
    title: str
    caption: str
    svg: str


Build = Callable[[], Chart | str]  # builds one chart, or says why there is none


def tab10() -> Sequence[Any]:
    """matplotlib's ten default colours (a ListedColormap's RGB tuples)."""
    colormap = matplotlib.colormaps["tab10"]
    assert isinstance(colormap, ListedColormap)
    return cast(Sequence[Any], colormap.colors)


def type_percentile(level: Mapping[str, Any], name: str, percentile: str) -> Any:
    return level["types"].get(name, {}).get(percentile)


def type_few(level: Mapping[str, Any], name: str, percentile: str) -> Any:
    return marked(level["types"].get(name), percentile)


def type_colours(levels: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One colour per request type, the same in every chart of the run."""
    names = sorted({name for level in levels for name in level["types"]})
    palette = tab10()
    return {name: palette[i % len(palette)] for i, name in enumerate(names)}


def sweep_charts(levels: Sequence[Mapping[str, Any]]) -> list[Chart]:
    """The charts against users; the probe's and the generator's only where they were measured."""
    return [build() for build in sweep_builds(levels)]


def sweep_builds(levels: Sequence[Mapping[str, Any]]) -> list[Callable[[], Chart]]:
    """What sweep_charts builds, one function per chart: the report builds each chart in
    the process that draws it (ecsload/report/drawing.py)."""
    builds = [partial(throughput_chart, levels), partial(latency_chart, levels),
              partial(errors_chart, levels)]  # fmt: skip
    if any((level["probe"] or {}).get("p50") is not None for level in levels):
        builds.append(partial(probe_chart, levels))
    if any((level["generator"] or {}).get("cpu_percent_max") is not None for level in levels):
        builds.append(partial(generator_chart, levels))
    if any(level.get("lateness") for level in levels):
        builds.append(partial(generator_time_chart, levels))
    builds.append(partial(latency_by_type_chart, levels, type_colours(levels)))
    return [partial(styled, build) for build in builds]


def styled(build: Callable[[], Chart]) -> Chart:
    with matplotlib.rc_context(STYLE):
        return build()


def figure(height: float) -> Figure:
    return Figure(figsize=(WIDTH, height), layout="constrained")


def against_users(
    ax: Axes,
    levels: Sequence[Mapping[str, Any]],
    series: Sequence[tuple[str, Callable[[Mapping[str, Any]], Any], dict[str, Any]]],
    ylabel: str,
    intervals: Sequence[Callable[[Mapping[str, Any]], Any]] = (),
) -> None:
    """Lines of figures against the levels' users (or arrival rates); a level without the
    figure is a gap. With `intervals` (one per first series: a level's [low, high] or None),
    each point gets its 95% interval as an error bar."""
    users = [level_key(level) for level in levels]
    top = 0.0
    for i, (label, value, given) in enumerate(series):
        style = dict(given)
        few = style.pop("few", None)  # which levels' figure is from too few answers
        values = list(map(value, levels))
        (line,) = ax.plot(users, [np.nan if v is None else v for v in values], label=label, **style)
        hollow = [(x, v) for x, v, lv in zip(users, values, levels, strict=True) if few and few(lv)]
        if hollow:
            ax.plot(
                *zip(*hollow, strict=True),
                linestyle="",
                marker=style.get("marker", "o"),
                color=line.get_color(),
                markerfacecolor="white",
            )
        if i < len(intervals):
            cis = [intervals[i](level) for level in levels]
            error_bars(ax, users, values, cis, line.get_color())
            top = max([top, *(ci[1] for ci in cis if ci)])
        top = max([top, *(v for v in values if v is not None)])
    open_sweep = any(level.get("model") == "open" for level in levels)
    ax.set_xlabel("arrival rate (requests/s)" if open_sweep else "users (concurrency level)")
    ax.set_ylabel(ylabel)
    if 0 < len(users) <= 12:
        level_ticks(ax, users)
    ax.set_ylim(0, top * 1.1 or 1.0)


LABEL_EM = 0.6  # a digit's width in ems, near enough for the tick labels' sans-serif


def level_ticks(ax: Axes, keys: Sequence[float]) -> None:
    """A tick at every level, each labelled only where its label has room after the last
    labelled one: a capacity search's bisection puts rates a few percent apart (476, 497,
    519, 542, 566), and their labels ran into one another. The axes' width is taken before
    the layout shrinks it, so the room asked for is a fifth more than a label's width."""
    ax.set_xticks(keys)
    drawn_on = ax.get_figure(root=True)
    inches = ax.get_position().width * (drawn_on.get_figwidth() if drawn_on else WIDTH)
    points_per_unit = 72 * inches / ((max(keys) - min(keys)) or 1.0)
    size = float(ax.xaxis.get_ticklabels()[0].get_fontsize())
    labels: dict[float, str] = {}
    last = None
    for key in sorted(keys):
        text = f"{key:g}"
        if last is None or (key - last) * points_per_unit >= 1.2 * LABEL_EM * size * len(text):
            labels[key], last = text, key
    ax.set_xticklabels([labels.get(key, "") for key in keys])


def error_bars(
    ax: Axes, xs: Sequence[float], values: Sequence[Any], cis: Sequence[Any], colour: Any
) -> None:
    """Each point's 95% interval as an error bar (none where a level has no interval)."""
    points = [(x, v, ci) for x, v, ci in zip(xs, values, cis, strict=True) if v is not None and ci]
    if points:
        x, v, ci = zip(*points, strict=True)
        below = [max(value - low, 0) for value, (low, _) in zip(v, ci, strict=True)]
        above = [max(high - value, 0) for value, (_, high) in zip(v, ci, strict=True)]
        ax.errorbar(x, v, yerr=[below, above], fmt="none", ecolor=colour, capsize=3)


def every(key: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda level: None if level["all"] is None else level["all"][key]


def interval_of(key: str, group: str | None = None) -> Callable[[Mapping[str, Any]], Any]:
    """A level's 95% interval of `key` (of the level, or of its group "all")."""

    def find(level: Mapping[str, Any]) -> Any:
        figures = level if group is None else level.get(group)
        return ((figures or {}).get("ci") or {}).get(key)

    return find


def throughput_chart(levels: Sequence[Mapping[str, Any]]) -> Chart:
    """Requests and OK answers per second against users or, for an arrival-rate sweep,
    against the rate, with the rate itself beside them: a service that keeps up answers
    on it, one that fell behind below it (ecsload.analysis.omission.fell_behind)."""
    fig = figure(2.8)
    ax = fig.add_subplot()
    series = [
        ("requests/s", lambda lv: lv["rps"], {"marker": "o"}),
        ("goodput (OK/s)", lambda lv: lv.get("goodput"), {"marker": "s", "linestyle": "--"}),
    ]
    open_sweep = any(level.get("model") == "open" for level in levels)
    if open_sweep:
        series.append(
            ("sent (the rate)", lambda lv: lv.get("rate"), {"color": "grey", "linestyle": ":"})
        )
    against_users(ax, levels, series, "requests/s", [interval_of("rps"), interval_of("goodput")])
    ax.set_title("Throughput: measured requests per second")
    fig.legend(loc="outside lower center", ncols=LEGEND_COLUMNS + open_sweep)
    shape = (
        "Below the grey line of the rate, the service answered fewer requests than were "
        "sent: its queue grew through the level, and that rate is not sustained."
        if open_sweep
        else "Where the line flattens while users grow, within the bars, the service (or "
        "the generator, see below) is saturated."
    )
    return Chart(
        "throughput",
        "Throughput",
        "Requests completed per second in each level's measured phase (all its users "
        "running; at an arrival rate, the answers as they arrived), and goodput (OK answers "
        "per second); the bars are each figure's 95% interval (block bootstrap over time "
        f"windows and repeats). {shape}",
        fig,
    )


def latency_chart(levels: Sequence[Mapping[str, Any]]) -> Chart:
    """Latency against users or, for an arrival-rate sweep, against the rate; a closed sweep's
    corrected p99 beside its own (ecsload.analysis.omission)."""
    fig = figure(2.8)
    ax = fig.add_subplot()
    series = [
        (
            name,
            every(name),
            {"linestyle": line, "marker": marker, "few": lambda lv, k=name: marked(lv["all"], k)},
        )
        for name, line, marker in PERCENTILE_STYLES
    ]
    if any(((level["all"] or {}).get("corrected") or {}).get("p99") for level in levels):
        series.append(
            (
                "p99 corrected",
                lambda lv: ((lv["all"] or {}).get("corrected") or {}).get("p99"),
                {"linestyle": "-.", "marker": "v", "color": "firebrick"},
            )
        )
    intervals = [interval_of(name, "all") for name, _, _ in PERCENTILE_STYLES]
    against_users(ax, levels, series, "response time (ms)", intervals)
    open_sweep = any(level.get("model") == "open" for level in levels)
    ax.set_title(
        "Latency against the arrival rate, from each request's schedule"
        if open_sweep
        else "Response time, all request types"
    )
    fig.legend(loc="outside lower center", ncols=LEGEND_COLUMNS)
    text = (
        "Exact p50, p95 and p99 of every measured request at each arrival rate, in ms, each "
        "timed from when it was due: where the lines climb, the service no longer keeps up "
        "with the rate."
        if open_sweep
        else "Exact p50, p95 and p99 of every measured request's response time, in ms, with "
        "their 95% intervals as bars; p99 corrected: what a client arriving at a constant rate "
        "would have seen (coordinated omission corrected)."
    )
    return Chart("latency", "Response time", text, fig)


def latency_by_type_chart(levels: Sequence[Mapping[str, Any]], colours: Mapping[str, Any]) -> Chart:
    """Small multiples: one panel per request type, each with its own scale."""
    names = list(colours)
    columns = 2
    rows = max(1, math.ceil(len(names) / columns))
    fig = figure(1.7 * rows + 0.5)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax, name in zip(axes, names, strict=False):
        against_users(
            ax,
            levels,
            [
                (
                    percentile,
                    partial(type_percentile, name=name, percentile=percentile),
                    {
                        "linestyle": line,
                        "marker": marker,
                        "color": colours[name],
                        "few": partial(type_few, name=name, percentile=percentile),
                    },
                )
                for percentile, line, marker in PERCENTILE_STYLES
            ],
            "ms",
        )
        ax.set_title(name, color=colours[name], fontweight="bold")
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    fig.legend(
        handles=[
            Line2D([], [], color="grey", linestyle=line, marker=marker, label=percentile)
            for percentile, line, marker in PERCENTILE_STYLES
        ],
        loc="outside lower center",
        ncols=3,
    )
    fig.suptitle("Response time by request type")
    return Chart(
        "latency-by-type",
        "Response time by request type",
        "p50, p95 and p99 of each request type in ms, one panel per type, each with "
        "its own scale; a gap is a level that did not send that type; a hollow marker, a "
        "percentile from too few answers to rely on (fewer than 10 / (1 - p)).",
        fig,
    )


def errors_chart(levels: Sequence[Mapping[str, Any]]) -> Chart:
    def share(key: str) -> Callable[[Mapping[str, Any]], Any]:
        return lambda lv: None if lv["all"] is None else 100 * lv["all"][key] / lv["requests"]

    fig = figure(2.8)
    ax = fig.add_subplot()
    against_users(
        ax,
        levels,
        [
            ("errors (not the expected status)", share("error"), {"marker": "o"}),
            ("rate limited (503)", share("rate_limited"), {"marker": "s", "linestyle": "--"}),
        ],
        "% of measured requests",
    )
    ax.set_ylim(0, max(1.0, ax.get_ylim()[1]))
    ax.set_title("Errors and rate limiting")
    fig.legend(loc="outside lower center", ncols=LEGEND_COLUMNS)
    return Chart(
        "errors",
        "Errors",
        "The share of measured requests answered with another status than expected "
        "(errors, no answer included), and of those answered 503 (rate limited; "
        "counted among the errors too).",
        fig,
    )


def probe_chart(levels: Sequence[Mapping[str, Any]]) -> Chart:
    """The probe's p50 and p99 beside the model's NoOp's; each hollow where it is from too
    few answers (a probe sends a few a second: its p99 rarely has the 1000 it needs)."""

    def noop(lv: Mapping[str, Any]) -> Any:
        return lv["types"].get("NoOp")

    def probe(lv: Mapping[str, Any]) -> Any:
        return lv["probe"]

    def series(label: str, figures: Callable[[Mapping[str, Any]], Any], key: str,
               style: dict[str, Any]) -> tuple[str, Callable[[Mapping[str, Any]], Any],
                                               dict[str, Any]]:  # fmt: skip
        return (
            label,
            lambda lv: (figures(lv) or {}).get(key),
            {**style, "few": lambda lv: marked(figures(lv), key)},
        )

    fig = figure(2.8)
    ax = fig.add_subplot()
    against_users(
        ax,
        levels,
        [
            series("probe p50", probe, "p50", {"marker": "o", "color": "black"}),
            series("probe p99", probe, "p99", {"marker": "^", "color": "black", "linestyle": ":"}),
            series("model NoOp p50", noop, "p50", {"marker": "o", "color": "tab:red"}),
            series(
                "model NoOp p99", noop, "p99", {"marker": "^", "color": "tab:red", "linestyle": ":"}
            ),
        ],
        "response time (ms)",
    )
    ax.set_title("The service's own latency: the probe beside the model's NoOp")
    fig.legend(loc="outside lower center", ncols=LEGEND_COLUMNS)
    return Chart(
        "probe",
        "Probe and NoOp",
        "GET _noop from the probe (a process of its own, a few requests a second, so "
        "the load generator cannot delay it) beside the same request from the traffic "
        "model's users, in ms. A gap between them is the generator's own queueing. A "
        "hollow marker, a percentile from too few answers to rely on (fewer than 10 / (1 - p)).",
        fig,
    )


def generator_time_chart(levels: Sequence[Mapping[str, Any]]) -> Chart:
    """An arrival-rate sweep's time the generator adds: its sends' lateness, and how long an
    answer waited for its event loop before being timed."""

    def late(key: str) -> Callable[[Mapping[str, Any]], Any]:
        return lambda lv: (lv.get("lateness") or {}).get(key)

    def lag(key: str) -> Callable[[Mapping[str, Any]], Any]:
        return lambda lv: ((lv["generator"] or {}).get("loop_lag_ms") or {}).get(key)

    fig = figure(2.8)
    ax = fig.add_subplot()
    against_users(
        ax,
        levels,
        [
            ("sent late, p50", late("p50"), {"marker": "o"}),
            ("sent late, p99", late("p99"), {"marker": "o", "linestyle": "--"}),
            ("event-loop lag, p50", lag("p50"), {"marker": "s"}),
            ("event-loop lag, p99", lag("p99"), {"marker": "s", "linestyle": "--"}),
        ],
        "ms",
    )
    ax.set_title("Load generator: the time it adds")
    fig.legend(loc="outside lower center", ncols=LEGEND_COLUMNS)
    return Chart(
        "generator_time",
        "Generator's time",
        "How late the generator sent its arrivals after their schedule (part of each "
        "latency: requests are timed from when they were due), and how long an answer "
        "waited for the generator's event loop before it was timed (the busiest process's), "
        "in ms.",
        fig,
    )


def generator_chart(levels: Sequence[Mapping[str, Any]]) -> Chart:
    def figure_of(key: str) -> Callable[[Mapping[str, Any]], Any]:
        return lambda lv: (lv["generator"] or {}).get(key)

    fig = figure(2.8)
    ax = fig.add_subplot()
    against_users(
        ax,
        levels,
        [
            ("CPU", figure_of("cpu_percent_max"), {"marker": "o"}),
            (
                "busy (on a CPU or waiting for one)",
                figure_of("busy_percent_max"),
                {"marker": "s", "linestyle": "--"},
            ),
        ],
        "% of one core",
    )
    ax.axhline(GENERATOR_BUSY_PERCENT, color="tab:red", linewidth=0.8)
    ax.annotate(
        f"{GENERATOR_BUSY_PERCENT}%: the generator queues requests itself",
        (0.01, GENERATOR_BUSY_PERCENT),
        xycoords=("axes fraction", "data"),
        xytext=(0, 3),
        textcoords="offset points",
        color="tab:red",
        fontsize=8,
    )
    ax.set_ylim(0, max(110.0, ax.get_ylim()[1]))
    ax.set_title("Load generator: the busiest Locust process")
    fig.legend(loc="outside lower center", ncols=LEGEND_COLUMNS)
    return Chart(
        "generator",
        "Generator",
        "CPU use of the busiest Locust process while the level was measured, and the "
        "time its event loop was on a CPU or waiting for one, in % of one core. Above "
        f"{GENERATOR_BUSY_PERCENT}% the latencies include the generator's own queueing.",
        fig,
    )


def dots_to_draw(samples: Samples, limit: int = MAX_DOTS, seed: int = 1) -> np.ndarray:
    """Indices of the samples the scatter draws: all up to `limit`; otherwise each type's
    share of `limit` at random (at least 50 of each type), plus each type's slowest."""
    if len(samples) <= limit:
        return np.arange(len(samples))
    rng = np.random.default_rng(seed)
    chosen = []
    for code in np.unique(samples.type_code):
        of_type = np.flatnonzero(samples.type_code == code)
        quota = max(round(limit * len(of_type) / len(samples)), 50)
        if len(of_type) <= quota + SLOWEST_KEPT:
            chosen.append(of_type)
            continue
        times = samples.response_time_ms[of_type]
        chosen.append(of_type[np.argpartition(times, -SLOWEST_KEPT)[-SLOWEST_KEPT:]])
        chosen.append(rng.choice(of_type, quota, replace=False))
    return np.unique(np.concatenate(chosen))


def level_chart(
    level: Mapping[str, Any], samples: Samples, colours: Mapping[str, Any], repeats: int = 1
) -> Chart:
    """Response time against time since the level started, one colour per request type,
    each type's fitted line over the measured phase, the ramp shaded. For a level run
    `repeats` times, `samples` are its first repeat's: each repeat starts its users again,
    so their times do not lie on one axis (m and b, over every repeat, are each from its
    repeat's start)."""
    with matplotlib.rc_context(STYLE):
        fig = figure(3.6)
        ax = fig.add_subplot()
        start_ms = samples.timestamp_ms.min()
        seconds = (samples.timestamp_ms - start_ms) / 1000
        measured_from = (
            (samples.timestamp_ms[samples.measured].min() - start_ms) / 1000
            if samples.measured.any()
            else seconds.max()
        )
        handles: list[Artist] = []
        if (~samples.measured).any():
            ax.axvspan(0, measured_from, color="0.85", zorder=0)
            handles.append(Patch(color="0.85", label="ramp (not in the tables)"))
        ended_ms = (samples.timestamp_ms + samples.response_time_ms).max()
        gaps = [  # those of the repeat drawn
            gap
            for gap in (level.get("stalls") or {}).get("gaps") or []
            if repeats == 1 or start_ms <= gap["started_ms"] <= ended_ms
        ]
        for gap in gaps:
            began = (gap["started_ms"] - start_ms) / 1000
            ax.axvspan(began, began + gap["seconds"], color=STALL_COLOUR, alpha=0.25, zorder=0)
        if gaps:
            handles.append(Patch(color=STALL_COLOUR, alpha=0.25, label="stall: no answer"))
        shown = dots_to_draw(samples)
        guessed = False  # a type's trend from too few answers: drawn dotted
        for name, code in sorted((name, i) for i, name in enumerate(samples.type_names)):
            colour = colours.get(name, "grey")
            of_type = shown[samples.type_code[shown] == code]
            ok = samples.ok[of_type]
            for marker, picked, size in (("o", of_type[ok], 3), ("x", of_type[~ok], 12)):
                ax.scatter(
                    seconds[picked],
                    samples.response_time_ms[picked],
                    s=size,
                    marker=marker,
                    color=colour,
                    alpha=0.45,
                    linewidths=0.6 if marker == "x" else 0,
                    rasterized=True,
                )
            fitted = fitted_line(level["types"].get(name), samples, code, seconds, measured_from)
            if fitted is not None:
                few = trend_too_few(level["types"].get(name))
                ax.plot(*fitted, color=colour, linewidth=1.0 if few else 1.6,
                        linestyle=":" if few else "-")  # fmt: skip
                guessed |= few
            handles.append(Line2D([], [], color=colour, marker="o", markersize=4, label=name))
        handles.append(
            Line2D([], [], color="grey", marker="x", linestyle="", label="error (no Ok)")
        )
        if guessed:
            label = f"dotted: a trend from < {TREND_ANSWERS} answers"
            handles.append(Line2D([], [], color="grey", linestyle=":", label=label))
        times = samples.response_time_ms[shown]
        if len(times) and times.max() > LOG_SCALE_SPREAD * max(np.median(times), 1e-3):
            ax.set_yscale("log")
            ax.set_ylabel("response time (ms, log scale)")
        else:
            ax.set_ylim(bottom=0)
            ax.set_ylabel("response time (ms)")
        ax.set_xlabel("seconds since the level's first request")
        ax.set_xlim(left=0)
        during = "the level" if repeats == 1 else f"its first repeat of {repeats}"
        ax.set_title(f"{level_label(level)}: response time during {during}")
        fig.legend(handles=handles, loc="outside lower center", ncols=LEGEND_COLUMNS)
    drawn = len(shown)
    sampled = (
        f"every one of its {len(samples):,} requests"
        if drawn == len(samples)
        else f"{drawn:,} of its {len(samples):,} requests (each type's share at random, "
        "and each type's slowest)"
    )
    if repeats > 1:
        sampled += (
            f", of its first repeat of {repeats} (each repeat starts its users again; each "
            "has its own table, in repeat-R/summary.txt)"
        )
    return Chart(
        level_name(level_key(level)),
        f"Level {level_label(level)}",
        f"Each dot is one request (x: not Ok), at the time it was sent: {sampled}. "
        "Each line is its type's fitted response time m·t + b over the measured phase "
        "(m and b from every measured request, as in the table below); dotted, a type's "
        f"trend from fewer than {TREND_ANSWERS} answers: a guess. Shaded: the ramp, "
        "while the users were starting; in red, stalls: requests outstanding and no answer "
        "for longer than the level's stall threshold.",
        fig,
    )


def fitted_line(
    stats: Mapping[str, Any] | None,
    samples: Samples,
    code: int,
    seconds: np.ndarray,
    measured_from: float,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The type's m·t + b (t from the measured phase's first request) across the times
    its measured requests were sent; 50 points, so it stays straight on a log axis."""
    if stats is None or stats["m"] is None:  # none answered: no latency to fit
        return None
    sent = seconds[samples.measured & (samples.type_code == code)]
    if not len(sent):
        return None
    x = np.linspace(sent.min(), sent.max(), 50)
    return x, stats["m"] * (x - measured_from) + stats["b"]


def svg(chart: Chart) -> str:
    """The chart as an <svg> element to put in an HTML page (no XML prologue)."""
    buffer = io.StringIO()
    with matplotlib.rc_context(STYLE):
        chart.figure.savefig(buffer, format="svg", dpi=SCATTER_DPI, metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def drawn_chart(chart: Chart) -> DrawnChart:
    return DrawnChart(chart.key, chart.title, chart.caption, svg(chart))


def write_pdf(charts: Sequence[Chart], path: Path) -> None:
    """One page per chart, PDF_SCALE times its inline size (the same fonts, so the plot
    gets the room), written whole or not at all."""
    # Imported here: the PDF backend (fontTools) adds 0.2 s to a report without --graphs.
    from matplotlib.backends.backend_pdf import PdfPages

    partial = path.with_name(f".{path.name}.partial")
    try:
        with (
            matplotlib.rc_context(STYLE),
            PdfPages(partial, metadata={"Creator": "ecs-load", "CreationDate": None}) as pdf,
        ):
            for chart in charts:
                width, height = chart.figure.get_size_inches()
                chart.figure.set_size_inches(width * PDF_SCALE, height * PDF_SCALE)
                try:
                    pdf.savefig(chart.figure, dpi=SCATTER_DPI * 2)
                finally:
                    chart.figure.set_size_inches(width, height)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)  # no half PDF left behind
        raise
