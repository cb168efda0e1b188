"""report.html and --graphs: `python -m ecsload.commands.report` run for real on run folders
made here the way a sweep makes them (samples.csv by the recorder's writer, summary.json by
the summary's code), with the verdict files of the other branch written by hand in their shape.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader

from ecsload.analysis.documents import level_summary, run_summary
from ecsload.analysis.samples import read_samples
from ecsload.plugin.recorder import SampleFile
from ecsload.report.charts import (
    MAX_DOTS,
    SLOWEST_KEPT,
    dots_to_draw,
    level_chart,
    sweep_charts,
    type_colours,
)
from tests.ecsload_support import run_module

TYPES = ("NoOp", "Tasks-Happy-Path", "Version")
START_MS = 1_795_000_000_000
SWEEP_CHARTS = 4  # throughput, latency, latency by type, errors (no probe, no generator here)


def write_level(run_dir: Path, users: int, n: int, ramp: int = 20, seed: int = 0) -> dict:
    """A level folder: `n` samples (the first `ramp` in the ramp), 10 ms apart, latencies
    growing during the level; its summary.json. Returns the level's summary."""
    rng = np.random.default_rng(seed)
    level_dir = run_dir / f"level-{users}"
    level_dir.mkdir(parents=True)
    samples = SampleFile(level_dir / "samples.csv")
    samples.write(
        [
            f"{START_MS + 10 * i},{TYPES[i % 3]},{i % users},{int(i % 50 != 0)},"
            f"{200 if i % 50 else 500},{2 + i / 100 + rng.random():.3f},"
            f"{'ramp' if i < ramp else 'measure'},,0.000\n"
            for i in range(n)
        ]
    )
    samples.close()
    level = level_summary(read_samples(level_dir / "samples.csv"), users, {"host": "http://x"})
    (level_dir / "summary.json").write_text(json.dumps(run_summary("http://x", [level])))
    return level


def make_run(tmp_path: Path, users: tuple[int, ...] = (5, 10)) -> Path:
    run_dir = tmp_path / "20261127-120000"
    levels = [write_level(run_dir, u, 300, seed=u) for u in users]
    (run_dir / "summary.json").write_text(json.dumps(run_summary("http://x", levels)))
    (run_dir / "plan.json").write_text(
        json.dumps(
            {
                "created": "2026-11-27T12:00:00Z",
                "concurrency": list(users),
                "number_of_requests": 280,
                "credentials": "/home/me/creds.txt",
                "endpoint": None,
                "sources": {"concurrency": "option"},
                "distribution": {"role": "local"},
            }
        )
    )
    return run_dir


RENDERS = pytest.mark.e2e  # draws a whole report: seconds of matplotlib


def report(run_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_module("report", str(run_dir), *args, timeout=120)


def charts_in(page: str) -> int:
    return len(re.findall(r'<figure class="chart"[^>]*>\s*<svg', page))


@RENDERS
def test_the_page_holds_every_chart_table_and_link_and_nothing_to_fetch(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path)
    (run_dir / "level-5" / "report.html").write_text("Locust's")

    result = report(run_dir)

    page_path = run_dir / "report.html"
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"Find the report @ '{page_path}'\n",  # `report RUN` says where the report is
        "",
    )
    page = page_path.read_text()
    assert charts_in(page) == SWEEP_CHARTS + 2
    assert "Load test of http://x" in page
    assert "5, 10 users" in page
    assert "560 measured, 40 more in the ramps" in page
    assert "/home/me/creds.txt" in page and "from option" not in page
    assert "280 @ 5 from " in page and "280 @ 10 from " in page
    assert '<a href="level-5/report.html">Locust&#39;s report</a>' in page
    assert 'href="level-10/report.html"' not in page  # that level has none
    assert "No probe ran" in page
    # nothing the browser could fetch: no src=, no url() but to the page's own ids, no href
    # but to the page's own ids, inline data (the scatters' dots) and the levels' files
    assert not re.search(r"\ssrc=|url\((?!#)|@import|<script|<link", page)
    hrefs = set(re.findall(r'href="([^"]*)"', page))
    assert all(href.startswith(("#", "data:image/png;base64,", "level-")) for href in hrefs)
    assert "Verdict" not in page and "Saturation" not in page and "<pre>" not in page


@RENDERS
def test_the_figures_on_the_page_are_summary_json_s(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path)
    summary = json.loads((run_dir / "summary.json").read_text())

    assert report(run_dir).returncode == 0

    page = (run_dir / "report.html").read_text()
    for level in summary["levels"]:
        assert f"{level['rps']:.1f}" in page
        for name, stats in level["types"].items():
            row = re.search(
                rf"<tr><td>{name}\s*</td>(.*?)</tr>",
                page.split(f"{level['requests']} @ {level['users']} from")[1],
            )
            assert row is not None
            cells = re.findall(r">\s*([-\d.]+)\s*<", row.group(1))
            assert cells[:5] == [
                str(stats["ok"]),
                str(stats["error"]),
                f"{stats['m']:.3f}",
                f"{stats['b']:.2f}",
                f"{stats['min']:.2f}",
            ]


@RENDERS
def test_the_verdict_saturation_thresholds_and_comparison_show_when_present(
    tmp_path: Path,
) -> None:
    run_dir = make_run(tmp_path)
    summary = json.loads((run_dir / "summary.json").read_text())
    summary["verdict"] = {
        "passed": False,
        "thresholds": [
            {"expr": "p95 < 50", "level": 10, "measured": 61.2, "passed": False},
            {"expr": "error% < 1", "level": 5, "measured": 0.0, "passed": True},
        ],
    }
    summary["saturation"] = {"text": "Saturation: throughput stops growing at 10 users (<b>)."}
    (run_dir / "summary.json").write_text(json.dumps(summary))
    (run_dir / "thresholds.txt").write_text("p95 < 50 at 10 users: 61.2 FAILED\n")
    (run_dir / "comparison.txt").write_text("p95 at 10: 61.2 vs 40.1 <slower>\n")

    assert report(run_dir).returncode == 0

    page = (run_dir / "report.html").read_text()
    assert 'Verdict: <span class="failed">failed</span>' in page
    assert "<td>p95 &lt; 50</td><td>10</td><td>61.2</td>" in page
    assert "<td>error% &lt; 1</td><td>5</td><td>0.0</td>" in page
    assert (
        '<p id="saturation">Saturation: throughput stops growing at 10 users (&lt;b&gt;).</p>'
        in page
    )
    assert "<pre>p95 &lt; 50 at 10 users: 61.2 FAILED\n</pre>" in page
    assert "<pre>p95 at 10: 61.2 vs 40.1 &lt;slower&gt;\n</pre>" in page


@RENDERS
def test_a_run_that_ended_before_its_summary_reports_the_levels_that_finished(
    tmp_path: Path,
) -> None:
    run_dir = make_run(tmp_path, users=(5, 10))
    (run_dir / "summary.json").unlink()
    (run_dir / "level-15").mkdir()  # the level that was running: no summary

    assert report(run_dir).returncode == 0

    page = (run_dir / "report.html").read_text()
    assert charts_in(page) == SWEEP_CHARTS + 2
    assert "2 level(s) against http://x" in page


@RENDERS
def test_a_level_without_samples_still_has_its_table(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path)
    (run_dir / "level-10" / "samples.csv").unlink()

    assert report(run_dir).returncode == 0

    page = (run_dir / "report.html").read_text()
    assert charts_in(page) == SWEEP_CHARTS + 1
    assert "No chart: " in page and "samples.csv does not exist" in page
    assert "280 @ 10 from " in page


@RENDERS
def test_a_level_run_several_times_is_charted_from_its_first_repeat(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path)
    level_dir = run_dir / "level-10"
    for repeat in (1, 2):  # --repeat 2: each repeat's samples in its own folder
        (level_dir / f"repeat-{repeat}").mkdir()
        shutil.copy(level_dir / "samples.csv", level_dir / f"repeat-{repeat}" / "samples.csv")
    (level_dir / "samples.csv").unlink()

    assert report(run_dir).returncode == 0

    page = (run_dir / "report.html").read_text()
    assert charts_in(page) == SWEEP_CHARTS + 2
    assert "No chart" not in page
    assert "10 users: response time during its first repeat of 2" in page
    assert "every one of its 300 requests, of its first repeat of 2" in page


def pgm_pixels(path: Path) -> np.ndarray:
    """The pixels of a binary PGM (pdftoppm -gray)."""
    data = path.read_bytes()
    magic, width, height, _, pixels = data.split(maxsplit=4)
    assert magic == b"P5"
    return np.frombuffer(pixels, dtype=np.uint8)[: int(width) * int(height)]


@pytest.mark.skipif(
    not shutil.which("pdftoppm"), reason="needs poppler-utils (apt-get install poppler-utils)"
)
@pytest.mark.e2e  # pdfinfo and pdftoppm read the PDF, page by page
def test_graphs_writes_one_pdf_page_per_chart_group_and_pages_are_drawn(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, users=(5, 10, 20))
    pdf = tmp_path / "sweep.pdf"

    assert report(run_dir, "--graphs", str(pdf)).returncode == 0

    assert len(PdfReader(pdf).pages) == SWEEP_CHARTS + 3
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert re.search(rf"^Pages:\s+{SWEEP_CHARTS + 3}$", info.stdout, re.M)
    width, height = map(
        float, re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info.stdout, re.M).groups()
    )
    assert width >= 10 * 72 and height >= 5 * 72, info.stdout  # a page to read, not a thumbnail
    for page in (1, SWEEP_CHARTS + 3):  # the throughput, the last level's scatter
        out = tmp_path / f"page{page}"
        subprocess.run(
            ["pdftoppm", "-gray", "-r", "40", "-f", str(page), "-l", str(page), str(pdf), str(out)],
            check=True,
            timeout=60,
        )
        pixels = pgm_pixels(next(tmp_path.glob(f"page{page}*.pgm")))
        dark = np.count_nonzero(pixels < 128) / len(pixels)
        assert 0.005 < dark < 0.5, dark  # ink, but not a black page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{tmp}/none"], "none is not a folder: give a run's results folder"),
        (["{tmp}"], "holds no level summary (level-*/summary.json): give a run's folder, such as "),
        (["{run}", "--graphs", "{tmp}/g.png"], "'{tmp}/g.png' does not end in .pdf"),
        (
            ["{run}", "--graphs", "{tmp}/no/g.pdf"],
            "--graphs {tmp}/no/g.pdf: {tmp}/no is not a folder",
        ),
        (  # issue 19, case 16: a folder where the PDF would go
            ["{run}", "--graphs", "{tmp}/dir.pdf"],
            "'{tmp}/dir.pdf' is a folder or another special file: give the PDF's file name",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    run_dir = make_run(tmp_path / "results")
    (tmp_path / "results" / "dir.pdf").mkdir()
    names = {"tmp": str(tmp_path / "results"), "run": str(run_dir)}
    result = run_module("report", *(arg.format(**names) for arg in args), timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert message.format(**names) in result.stderr
    assert "Traceback" not in result.stderr
    if "such as" in message:
        assert str(run_dir) in result.stderr
    assert not list((tmp_path / "results").rglob("*.partial"))


def big_level(n: int) -> list[str]:
    """n samples of two types, one of them rare, with two very slow ones (7 and n/2)."""
    times = np.random.default_rng(3).lognormal(1.5, 0.4, n)
    times[[7, n // 2]] = 5000.0
    names = np.where(np.arange(n) % 100 == 0, "Version", "Tasks-Happy-Path")
    phases = np.where(np.arange(n) < n // 10, "ramp", "measure")
    return [
        f"{START_MS + i},{names[i]},1,1,200,{times[i]:.3f},{phases[i]},,0.000\n" for i in range(n)
    ]


def test_the_scatter_draws_a_sample_with_every_type_and_each_types_slowest(
    tmp_path: Path,
) -> None:
    samples_file = SampleFile(tmp_path / "samples.csv")
    samples_file.write(big_level(50_000))
    samples_file.close()
    samples = read_samples(tmp_path / "samples.csv")

    shown = dots_to_draw(samples)

    assert len(shown) <= MAX_DOTS + 2 * SLOWEST_KEPT + 50
    assert len(np.unique(samples.type_code[shown])) == 2
    assert {7, 25_000} <= set(shown.tolist())  # the two slowest
    rare = np.count_nonzero(samples.type_code[shown] == samples.type_names.index("Version"))
    assert rare >= 50


def test_each_fitted_line_is_the_summary_s_m_and_b_from_the_measured_start(
    tmp_path: Path,
) -> None:
    level = write_level(tmp_path, 5, 600, ramp=100)
    samples = read_samples(tmp_path / "level-5" / "samples.csv")

    chart = level_chart(level, samples, type_colours([level]))

    ax = chart.figure.axes[0]
    lines = {tuple(line.get_color()): line for line in ax.get_lines()}
    measured_from = 100 * 10 / 1000  # the ramp's 100 samples, 10 ms apart
    for name, stats in level["types"].items():
        x, y = lines[tuple(type_colours([level])[name])].get_data()
        assert x[0] >= measured_from
        assert y == pytest.approx(stats["m"] * (x - measured_from) + stats["b"])
    assert ax.get_xlabel() == "seconds since the level's first request"
    assert ax.get_ylabel() == "response time (ms)"
    assert "every one of its 600 requests" in chart.caption


def test_no_legend_covers_a_plot(tmp_path: Path) -> None:
    """Every chart, the probe's and the generator's included: its legends lie outside
    every plotted area, so no measured point hides under one."""
    run_dir = make_run(tmp_path, users=(5, 10, 20))
    levels = json.loads((run_dir / "summary.json").read_text())["levels"]
    for level in levels:
        level["probe"] = {"p50": 1.0, "p99": 2.0}
        level["generator"] = {"cpu_percent_max": 50.0, "busy_percent_max": 60.0}
    colours = type_colours(levels)
    charts = sweep_charts(levels) + [
        level_chart(
            level, read_samples(run_dir / f"level-{level['users']}" / "samples.csv"), colours
        )
        for level in levels
    ]
    assert {"probe", "generator"} <= {chart.key for chart in charts}
    assert sum(len(chart.figure.legends) for chart in charts) >= len(charts) - 1  # not throughput
    for chart in charts:
        fig = chart.figure
        fig.draw_without_rendering()
        plots = [ax.get_window_extent() for ax in fig.axes if ax.get_visible()]
        assert all(ax.get_legend() is None for ax in fig.axes), chart.key  # none inside a plot
        for legend in fig.legends:
            box = legend.get_window_extent()
            assert not any(box.overlaps(plot) for plot in plots), chart.key


@RENDERS
def test_a_pdf_that_cannot_be_written_is_named_and_leaves_no_partial_file(
    tmp_path: Path,
) -> None:
    run_dir = make_run(tmp_path)
    pdf = tmp_path / "g.pdf"
    pdf.mkdir()  # after the command's check: the PDF is drawn whole, then cannot be renamed
    from ecsload.report import page

    with pytest.raises(page.PdfNotWritten, match="Is a directory"):
        page.write_report(run_dir, json.loads((run_dir / "summary.json").read_text()), {}, {}, pdf)
    assert (run_dir / "report.html").is_file()
    assert not (tmp_path / ".g.pdf.partial").exists()


@RENDERS
def test_the_report_of_a_run_that_stopped_early_says_it_is_partial(tmp_path: Path) -> None:
    # Issue 19, case 18: Ctrl-C (or the node's death) in the level of 10 users.
    run_dir = make_run(tmp_path, users=(5, 10))
    (run_dir / "summary.json").unlink()
    (run_dir / "level-10" / "summary.json").unlink()

    assert report(run_dir).returncode == 0

    page = (run_dir / "report.html").read_text()
    assert (
        "Partial run: it ended before the level(s) of 10 users finished (planned: 5, 10 users)"
        in page
    )
    complete = make_run(tmp_path / "complete")
    assert report(complete).returncode == 0
    assert "Partial run" not in (complete / "report.html").read_text()
