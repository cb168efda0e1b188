"""How long writing a run's report.html takes: 10 levels of 100,000 samples (aim: under 10 s).

    .venv/bin/python -m bench.bench_report [--levels 10] [--samples 100000] [--graphs]

Makes a run folder the way a sweep does (each level's samples.csv with the
recorder's own file writer, 1% of them in the ramp; its summary.json from
those samples with the summary's own code; the run's summary.json), then times
`python -m ecsload.commands.report RUN_DIR` as run_load_test.sh runs it, and
its parts in this process. As a reference, measured in the same run on the
same files: reading the samples alone (which the report must do for its
scatters).
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_summary import timed, write_samples
from ecsload.analysis.documents import level_summary, run_summary
from ecsload.analysis.samples import read_samples
from ecsload.commands.report import run_summary_of
from ecsload.report.charts import Chart, svg, sweep_builds, sweep_charts, type_colours
from ecsload.report.drawing import cores, drawn
from ecsload.report.level_charts import level_build
from ecsload.report.page import write_report


def make_run(run_dir: Path, levels: int, samples: int) -> None:
    """A run folder of `levels` levels (10, 20, … users) of `samples` samples each."""
    documents = []
    for index in range(levels):
        users = 10 * (index + 1)
        level_dir = run_dir / f"level-{users}"
        level_dir.mkdir(parents=True)
        write_samples(level_dir / "samples.csv", samples, ramp=samples // 100, seed=index)
        level = level_summary(read_samples(level_dir / "samples.csv"), users, {})
        document = run_summary("http://127.0.0.1:8080", [level])
        (level_dir / "summary.json").write_text(json.dumps(document))
        documents.append(level)
    summary = run_summary("http://127.0.0.1:8080", documents)
    (run_dir / "summary.json").write_text(json.dumps(summary))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, default=10)
    parser.add_argument("--samples", type=int, default=100_000, help="per level")
    parser.add_argument("--graphs", action="store_true", help="also write the PDF")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run_dir = Path(folder) / "run"
        make_run(run_dir, options.levels, options.samples)
        paths = sorted(run_dir.glob("level-*/samples.csv"))
        reference_s, _ = timed(lambda: [read_samples(path) for path in paths])
        graphs = ["--graphs", str(Path(folder) / "graphs.pdf")] if options.graphs else []
        command_s, done = timed(
            lambda: subprocess.run(
                [sys.executable, "-m", "ecsload.commands.report", str(run_dir), *graphs],
                capture_output=True,
                text=True,
                check=False,
            )
        )
        if done.returncode:
            sys.exit(f"the report command failed: {done.stderr}")
        size_mb = (run_dir / "report.html").stat().st_size / 1e6
        summary = run_summary_of(run_dir)
        levels = summary["levels"]
        colours = type_colours(levels)
        level_builds = [level_build(run_dir, level, colours) for level in levels]
        sweep_s, sweep = timed(lambda: sweep_charts(levels))
        levels_s, built = timed(lambda: [build() for build in level_builds])
        charts = [*sweep, *(chart for chart in built if isinstance(chart, Chart))]
        svg_s, _ = timed(lambda: [svg(chart) for chart in charts])
        serial_s = sweep_s + levels_s + svg_s
        drawn_s, _ = timed(lambda: drawn([*sweep_builds(levels), *level_builds]))
        started = time.perf_counter()
        write_report(run_dir, summary, {}, {}, None)
        in_process_s = time.perf_counter() - started

    total = options.levels * options.samples
    print(f"report of {options.levels} levels x {options.samples:,} samples ({total:,} in all)")
    print(
        f"  whole command        {command_s:6.2f} s   (aim: < 10 s; python -m "
        f"ecsload.commands.report{' --graphs' if graphs else ''}, with interpreter start-up)"
    )
    print(f"  in process           {in_process_s:6.2f} s   (the same, imports already done)")
    print(f"    sweep charts       {sweep_s:6.2f} s   (building {len(sweep)} figures)")
    print(
        f"    level charts       {levels_s:6.2f} s   (reading the samples, building the scatters)"
    )
    print(f"    SVG of all charts  {svg_s:6.2f} s   ({len(charts)} charts, one after the other)")
    print(
        f"      on every core    {drawn_s:6.2f} s   (built and drawn by {cores()} processes, as "
        f"the report does: {serial_s / drawn_s:.2f}x faster than the three lines above)"
    )
    print(f"  report.html          {size_mb:6.2f} MB")
    print(
        f"  reference: reading the samples alone {reference_s:6.2f} s; "
        f"command / reference = {command_s / reference_s:.1f}"
    )


if __name__ == "__main__":
    main()
