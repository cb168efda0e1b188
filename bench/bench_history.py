"""Benchmark of the run history: a history of 1,000 runs x 4 levels x 7 request types
(SQLite, and PostgreSQL when Debian's postgresql is installed), then the time of
appending one more run, of `history` for the endpoint, of change-point detection over
every series, and of the report's History section (aim: each under 2 s). Then the
change points' quality on synthetic series of 60 runs: a +20% step in p95 at run 40
with the run-to-run noise measured on this machine, and a flat series.

    .venv/bin/python -m bench.bench_history [--runs 1000] [--no-postgres]

Timing figures on a shared machine are noisy: run it once, on a quiet machine.
"""

import argparse
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from tabulate import tabulate

from ecsload.history import histograms, store
from ecsload.history.changes import change_points
from ecsload.history.report_section import history_section
from ecsload.history.schema import ALL_TYPES
from ecsload.model import REQUEST_TYPES
from tests.e2e_support import ROOT
from tests.postgres_support import postgres_missing, postgres_server

LEVELS = (10, 15, 20, 25)
# Between identical default sweeps here (issue 21, six A/A sweeps): SD of log p95 21-44%,
# of req/s 20-32%. The low end of each, and a quieter 10% (long levels, --repeat).
NOISE = {"p95, 21% (default levels)": 0.21, "p95, 10% (long or repeated levels)": 0.10}
POOL = 40  # distinct encoded histograms, reused: encoding 28,000 would dominate the set-up


def rows_of(n: int, rng: np.random.Generator, pool: list[bytes]) -> tuple[dict, list, list]:
    run = {
        "run_key": f"bench-{n}",
        "target": "",
        "endpoint": "http://127.0.0.1:1",
        "label": f"build-{n}",
        "branch": "main",
        "created": f"2026-01-{1 + n // 1440:02d}T{n // 60 % 24:02d}:{n % 60:02d}:00Z",
        "started": None,
        "ended": None,
        "recorded": "2026-02-01T00:00:00Z",
        "run_dir": f"/runs/{n}",
        "verdict": "same",
        "plan": "{}",
    }
    levels, figures = [], []
    for users in LEVELS:
        levels.append({"users": users, "seconds": 2.0, "generator_share": 40.0})
        for name in (ALL_TYPES, *REQUEST_TYPES[:7]):
            p95 = 20 * users / 10 * math.exp(rng.normal(0, 0.2))
            figures.append(
                {
                    "users": users,
                    "type": name,
                    "requests": 1000,
                    "errors": 0,
                    "rate_limited": 0,
                    "p50": p95 / 2,
                    "p95": p95,
                    "p99": p95 * 1.5,
                    "rps": 500 * math.exp(rng.normal(0, 0.2)),
                    "goodput": 500 * math.exp(rng.normal(0, 0.2)),
                    "histogram": pool[int(rng.integers(POOL))],
                }
            )
    return run, levels, figures


def fill(location: str, runs: int) -> None:
    rng = np.random.default_rng(1)
    pool = [histograms.encode(np.exp(rng.normal(3, 0.5, 1000))) for _ in range(POOL)]
    with store.transaction(location, create=True) as connection:
        for n in range(runs):
            store.insert_run(connection, *rows_of(n, rng, pool))


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measure(location: str, runs: int) -> dict[str, float]:
    fill(location, runs)
    rng = np.random.default_rng(2)
    pool = [histograms.encode(np.exp(rng.normal(3, 0.5, 1000)))] * POOL
    figures = {"append one run": timed(lambda: store.append(location, *rows_of(runs, rng, pool)))}
    command = [sys.executable, "-m", "ecsload.commands.history", "--history", location]
    figures["history (last 20, a process)"] = timed(
        lambda: subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    )
    figures["history --last 1000 (a process)"] = timed(
        lambda: subprocess.run(
            [*command, "--last", "1000"], check=True, capture_output=True, cwd=ROOT
        )
    )

    def detect(last: int | None) -> None:
        with store.transaction(location, create=False) as connection:
            chosen = store.run_rows(connection, "", last=last)
        change_points(chosen)

    series = len(LEVELS) * 8 * 6
    figures[f"change points, all {series} series, last 100 runs"] = timed(lambda: detect(100))
    figures[f"change points, all {series} series of {runs + 1} runs"] = timed(lambda: detect(None))
    figures["report's History section"] = timed(
        lambda: history_section(Path("/nonexistent"), {"history": location, "endpoint": ""})
    )
    return figures


def quality(seeds: int = 20) -> list[list[Any]]:
    """Where a +20% step at run 40 is found, and false change points in flat series."""
    rows = []
    for title, sd in NOISE.items():
        found, false = [], 0
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            for step in (1.2, 1.0):
                series = [
                    20 * math.exp(rng.normal(0, sd)) * (step if n >= 40 else 1) for n in range(60)
                ]
                runs = [
                    store.StoredRun(
                        n,
                        "",
                        None,
                        f"b{n}",
                        "",
                        str(n),
                        "",
                        None,
                        levels={10: {ALL_TYPES: {"p95": v}}},
                    )
                    for n, v in enumerate(series)
                ]
                points = [c.run_id for c in change_points(runs, figures=["p95"])]
                if step > 1:
                    found.append(min(points, key=lambda i: abs(i - 40)) if points else None)
                else:
                    false += len(points)
        near = [f for f in found if f is not None and abs(f - 40) <= 3]
        at = sorted(f for f in found if f is not None)
        rows.append(
            [title, f"{len(near)}/{seeds}", " ".join(map(str, at)) or "-", f"{false} in {seeds}"]
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--no-postgres", action="store_true")
    options = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        results["SQLite"] = measure(str(Path(folder) / "history.sqlite"), options.runs)
    if not options.no_postgres:
        if missing := postgres_missing():
            print(f"PostgreSQL skipped: {missing}")
        else:
            cluster = Path(tempfile.mkdtemp(prefix="ecs-history-bench-pg-"))
            with postgres_server(cluster) as url:
                results["PostgreSQL"] = measure(url, options.runs)
    keys = list(next(iter(results.values())))
    print(f"A history of {options.runs} runs x {len(LEVELS)} levels x 7 types (+ all), seconds:")
    print(
        tabulate(
            [[key, *(f"{r[key]:.3f}" for r in results.values())] for key in keys],
            headers=["", *results],
            disable_numparse=True,
        )
    )
    print()
    print("Change points (Otava, p < 0.001) on 60 runs, +20% at run 40, 20 seeds:")
    print(
        tabulate(
            quality(),
            headers=["noise", "found ±3 runs", "found at", "false, flat 60"],
            disable_numparse=True,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
