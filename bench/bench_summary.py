"""How long summarising a level of 1,000,000 samples takes (aim: 2 s or less).

    .venv/bin/python -m bench.bench_summary [--samples N]

Writes N synthetic samples with the recorder's own file writer, then times
what `python -m ecsload.commands.summarize level` does: read the CSV, compute the exact
statistics, render the table. As a reference, measured in the same run on the
same file: parsing it with Python's csv module alone.
"""

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from ecsload.analysis.documents import level_summary
from ecsload.analysis.samples import read_samples
from ecsload.plugin.recorder import SampleFile
from ecsload.report.tables import level_table
from ecsload.sample_columns import MEASURE, RAMP

T = TypeVar("T")
TYPES = (
    ("Tasks-Happy-Path",) * 60
    + ("Tasks-Image-Not-Found", "Tasks-Bad-Request-Body") * 8
    + ("NoOp", "Version", "Health-Check-Quick", "Health-Check-Quick", "Health-Check-Slow") * 4
)


def write_samples(path: Path, n: int, ramp: int = 0, seed: int = 1) -> None:
    """n samples of a 25-user level at 1,000 requests/s, latencies log-normal around 5 ms;
    the first `ramp` of them sent during the ramp, the rest measured."""
    rng = np.random.default_rng(seed)
    start_ms = 1_714_564_800_000
    types = rng.choice(TYPES, n)
    users = rng.integers(1, 26, n)
    latencies = rng.lognormal(1.6, 0.5, n)
    failed = rng.random(n) < 0.01
    samples = SampleFile(path)
    for first in range(0, n, 100_000):
        samples.write(
            [
                f"{start_ms + i},{types[i]},{users[i]},{0 if failed[i] else 1},"
                f"{503 if failed[i] else 200},{latencies[i]:.3f},"
                f"{RAMP if i < ramp else MEASURE},,0.000,\n"  # no error, sent on time, untraced
                for i in range(first, min(first + 100_000, n))
            ]
        )
    samples.close()


def timed(action: Callable[[], T]) -> tuple[float, T]:
    """(seconds, result) of one call."""
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def csv_module_parse(path: Path) -> int:
    with path.open(newline="") as f:
        return sum(1 for _ in csv.reader(f))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    n = parser.parse_args().samples
    with tempfile.TemporaryDirectory() as folder:
        level_dir = Path(folder) / "level-25"
        level_dir.mkdir()
        path = level_dir / "samples.csv"
        write_samples(path, n)
        size_mb = path.stat().st_size / 1e6

        read_s, samples = timed(lambda: read_samples(path))
        stats_s, level = timed(lambda: level_summary(samples, 25, {}))
        render_s, _ = timed(lambda: level_table(level))
        total_s = read_s + stats_s + render_s
        reference_s, _ = timed(lambda: csv_module_parse(path))
        command_s, _ = timed(
            lambda: subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "ecsload.commands.summarize",
                    "level",
                    str(level_dir),
                    "--concurrency",
                    "25",
                ],
                capture_output=True,
                check=True,
            )
        )

    print(f"summarising {n:,} samples ({size_mb:.0f} MB of CSV)")
    print(f"  read samples        {read_s:6.2f} s")
    print(f"  statistics          {stats_s:6.2f} s")
    print(f"  table               {render_s:6.2f} s")
    print(f"  total               {total_s:6.2f} s   (aim: <= 2 s)")
    print(
        f"  whole command       {command_s:6.2f} s   (python -m ecsload.commands.summarize level, "
        "with interpreter start-up and writing the files)"
    )
    print(
        f"  reference: csv module parse only {reference_s:6.2f} s; "
        f"summary / reference = {total_s / reference_s:.2f}"
    )


if __name__ == "__main__":
    main()
