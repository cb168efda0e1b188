"""How often does the baseline comparison cry wolf, and does it still catch a real slowdown?

    .venv/bin/python -m bench.bench_false_alarms [--target nginx|node] [--runs 6]
        [--service-ms 0] [--slowed 2] [--delay tasks=20]
        [--plan '-c "10 20" -n 2000 -r 20'] [--folder DIR]

Runs the same sweep (run_load_test.sh) `--runs` times back to back against one
target, so every pair of runs is an A/A comparison: each "slower" or "faster" in
it is a false alarm. The nginx stand-in answers in microseconds, which saturates
the load generator (the worst case); `--service-ms MS` makes every endpoint take
MS, as a real deployment's do. With the stand-in the bench then slows chosen
endpoints on purpose (tests/nginx_support.py, `--delay NAME=MS`, on the same port,
so the same endpoint) and runs `--slowed` more sweeps: comparing those with the
first runs shows whether the rule still sees the slowdown. `--target node` runs
each sweep against its own local node, as CI does (no slowed runs: the node has
no delay option here).

Printed: the between-run spread of p50/p95/p99 (the standard deviation of their
logarithm across the runs, for types with at least 100 samples a run: what the
`run_noise` setting stands for), then, for several run_noise values at the
default tolerance, the A/A pairs and cells with an alarm and the slowed pairs in
which every delayed type was "slower" and no other type was. The runs stay in
`--folder` (a temporary one by default); given a folder with runs in it, the
bench compares those instead of running new ones.
"""

import argparse
import itertools
import shlex
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from tabulate import tabulate

from ecsload.exits import EXIT_OK, EXIT_THRESHOLDS
from ecsload.report.comparison import SAME, SLOWER, Rule, TypeSamples, compare, level_samples
from tests.e2e_support import ROOT, clean_env
from tests.nginx_support import nginx_ecs, nginx_missing

NOISES = (0, 10, 15, 20, 25, 30)
DELAYED_TYPES = {
    "noop": ("NoOp",),
    "version": ("Version",),
    "health": ("Health-Check-Quick", "Health-Check-Slow"),
    "tasks": ("Tasks-Happy-Path", "Tasks-Image-Not-Found", "Tasks-Bad-Request-Body"),
}
MIN_SPREAD_SAMPLES = 100
RUN_TIMEOUT_S = 900

Runs = list[dict[int, dict[str, TypeSamples]]]


def sweep(folder: Path, plan: list[str], env: dict[str, str]) -> None:
    """One run of the script into `folder`; stops the bench if it fails (a threshold that
    fails is no failure here: the sweep ran)."""
    result = subprocess.run(
        [str(ROOT / "run_load_test.sh"), *plan, "-o", str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    if result.returncode not in (EXIT_OK, EXIT_THRESHOLDS):
        raise SystemExit(f"a sweep failed (exit {result.returncode}): {result.stderr}")


@contextmanager
def nginx_target(folder: Path, delays: Mapping[str, float], port: int) -> Iterator[dict]:
    with nginx_ecs(folder, access_log=False, delays=delays, port=port) as server:
        yield clean_env(ECS_ENDPOINT=server.url, ECS_CREDENTIALS=str(server.credentials))


def make_runs(options: argparse.Namespace, plan: list[str]) -> None:
    """The A/A runs in folder/same, and the slowed ones in folder/slowed."""
    same, slowed = options.folder / "same", options.folder / "slowed"
    if options.target == "node":
        for _ in range(options.runs):
            sweep(same, plan, clean_env())
        return
    if missing := nginx_missing():
        raise SystemExit(missing)
    service = dict.fromkeys(DELAYED_TYPES, options.service_ms) if options.service_ms else {}
    with nginx_ecs(options.folder / "nginx", access_log=False, delays=service) as server:
        port = int(server.url.rsplit(":", 1)[1])
        env = clean_env(ECS_ENDPOINT=server.url, ECS_CREDENTIALS=str(server.credentials))
        for _ in range(options.runs):
            sweep(same, plan, env)
    if options.slowed:
        delays = service | options.delays
        with nginx_target(options.folder / "nginx-slowed", delays, port) as env:
            for _ in range(options.slowed):
                sweep(slowed, plan, env)


def read_runs(folder: Path) -> Runs:
    return [level_samples(run) for run in sorted(folder.iterdir())] if folder.is_dir() else []


def spread_rows(runs: Runs) -> list[list[object]]:
    """Per level and type with enough samples: the SD of log(percentile) across runs."""
    rows = []
    for users in sorted(runs[0]):
        for name in sorted(runs[0][users]):
            series = [run[users][name].response_time_ms for run in runs if name in run[users]]
            if len(series) < 2 or min(map(len, series)) < MIN_SPREAD_SAMPLES:
                continue
            values = np.array([np.percentile(s, (50, 95, 99)) for s in series])
            spread = np.log(values).std(axis=0, ddof=1)
            rows.append([users, name, min(map(len, series)), *(100 * spread)])
    return rows


def alarms(comparison: Mapping) -> list[str]:
    """The level/type cells that were not "same"."""
    return [
        f"{level['users']}/{name}/{key}"
        for level in comparison["levels"]
        for name, figures in level["types"].items()
        for key, change in figures.items()
        if isinstance(change, dict) and change["verdict"] != SAME
    ]


def caught(comparison: Mapping, delayed: set[str]) -> bool:
    """Every delayed type slower at every level, and nothing else judged changed."""
    return all(
        (figures["verdict"] == SLOWER) == (name in delayed)
        for level in comparison["levels"]
        for name, figures in level["types"].items()
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", choices=("nginx", "node"), default="nginx")
    p.add_argument("--runs", type=int, default=6)
    p.add_argument("--service-ms", type=float, default=0, help="every endpoint's latency")
    p.add_argument("--slowed", type=int, default=2)
    p.add_argument("--delay", default="tasks=20", help="NAME=MS[,NAME=MS]: slowed endpoints")
    p.add_argument("--plan", default='-c "10 20" -n 2000 -r 20')
    p.add_argument("--folder", type=Path)
    options = p.parse_args()
    options.delays = {
        name: float(ms) for name, ms in (item.split("=") for item in options.delay.split(","))
    }
    options.folder = options.folder or Path(tempfile.mkdtemp(prefix="bench-false-alarms-"))
    if not (options.folder / "same").is_dir():
        make_runs(options, shlex.split(options.plan))
    same, slowed = read_runs(options.folder / "same"), read_runs(options.folder / "slowed")
    delayed = {name for key in options.delays for name in DELAYED_TYPES[key]}
    print(f"{len(same)} identical runs and {len(slowed)} slowed runs in {options.folder}")
    print("\nBetween-run spread: SD of log(percentile) across the identical runs, in %")
    headers = ["Users", "Request Type", "Samples", "p50", "p95", "p99"]
    print(tabulate(spread_rows(same), headers=headers, floatfmt=".1f"))
    pairs = list(itertools.combinations(same, 2))
    rows = []
    for noise in NOISES:
        rule = Rule(run_noise_percent=noise)
        found = [alarms(compare(a, b, rule)) for a, b in pairs]
        hits = [caught(compare(a, b, rule), delayed) for a in same for b in slowed]
        rows.append(
            [
                noise,
                f"{sum(map(bool, found))}/{len(pairs)}",
                sum(map(len, found)),
                f"{sum(hits)}/{len(hits)}" if hits else "-",
            ]
        )
    print(f"\nAt tolerance {Rule().tolerance_percent:g}%; slowed: {options.delay}")
    headers = ["run_noise %", "A/A pairs with an alarm", "cells alarmed", "slowed caught"]
    print(tabulate(rows, headers=headers))


if __name__ == "__main__":
    main()
