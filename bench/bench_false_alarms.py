"""How often does the baseline comparison cry wolf, and does it catch a 1.2x slowdown?

    .venv/bin/python -m bench.bench_false_alarms [--runs 6] [--slowed 3]
        [--service-ms 10] [--delay all=12] [--plan '-c "10 20" -d 10 --repeat 3']
        [--defaults 6] [--folder DIR]

Runs the same sweep (run_load_test.sh) `--runs` times back to back against the
nginx stand-in whose every endpoint takes `--service-ms` (as a real deployment's
do), so every pair of runs is an A/A comparison: a verdict other than "same" is a
false alarm (the comparison is family-wise, so a pair counts once). Then it slows
the endpoints (`--delay NAME=MS`, all: every endpoint; tests/nginx_support.py, on
the same port, so the same endpoint) and runs `--slowed` more sweeps: comparing
each with every identical run shows whether the rule sees the slowdown (verdict
"slower"). Last, `--defaults` default sweeps against a local node (the quick
sweep, `-n 1000`), each compared with the one before, with each one's
saturation line. Printed: the between-run spread of p50/p95/p99 (SD of their
logarithm across runs), the A/A pairs with an alarm, the slowed pairs caught,
what the comparison could see, the same with the history as the baseline
(`--baseline history:N`: each identical run against the others, each slowed run
against all of them), each run's wall time. Run it on a machine that does
nothing else meanwhile: the stand-in shares the machine, so other work there
makes the service truly slower (docs/verdicts.md). The runs stay in `--folder`
(a temporary one by default); given a folder with runs in it, the bench compares
those instead of running new ones.
"""

import argparse
import itertools
import json
import shlex
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from tabulate import tabulate

from ecsload.exits import EXIT_OK, EXIT_REGRESSION, EXIT_THRESHOLDS
from ecsload.history import store
from ecsload.history.baseline import between_run_noise, pooled_samples
from ecsload.report.comparison import pooled
from ecsload.report.comparison.reading import level_samples
from ecsload.report.comparison.statistics import SAME, SLOWER, Rule, compare
from ecsload.report.samples import Samples
from tests.e2e_support import ROOT, clean_env
from tests.nginx_support import nginx_ecs, nginx_missing

DELAYED_TYPES = ("noop", "version", "health", "tasks")
MIN_SPREAD_SAMPLES = 100
HISTORY_FILE = "history.sqlite"  # each sweep adds itself to it, beside the run folders
RUN_TIMEOUT_S = 1800

Runs = list[dict[int, Samples]]
WALL_TIMES: list[float] = []


def sweep(folder: Path, plan: list[str], env: dict[str, str]) -> None:
    """One run of the script into `folder`; stops the bench if it fails (a threshold that
    fails is no failure here: the sweep ran)."""
    started = time.monotonic()
    result = subprocess.run(
        [str(ROOT / "run_load_test.sh"), *plan, "-o", str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    WALL_TIMES.append(time.monotonic() - started)
    if result.returncode not in (EXIT_OK, EXIT_THRESHOLDS, EXIT_REGRESSION):
        raise SystemExit(f"a sweep failed (exit {result.returncode}): {result.stderr}")


@contextmanager
def nginx_target(folder: Path, delays: Mapping[str, float], port: int) -> Iterator[dict]:
    with nginx_ecs(folder, access_log=False, delays=delays, port=port) as server:
        yield clean_env(ECS_ENDPOINT=server.url, ECS_CREDENTIALS=str(server.credentials))


def make_runs(options: argparse.Namespace, plan: list[str]) -> None:
    """The A/A runs in folder/same, the slowed ones in folder/slowed, the default sweeps
    against a local node in folder/defaults."""
    same, slowed = options.folder / "same", options.folder / "slowed"
    if missing := nginx_missing():
        raise SystemExit(missing)
    service = dict.fromkeys(DELAYED_TYPES, options.service_ms) if options.service_ms else {}
    with nginx_ecs(options.folder / "nginx", access_log=False, delays=service) as server:
        port = int(server.url.rsplit(":", 1)[1])
        env = clean_env(ECS_ENDPOINT=server.url, ECS_CREDENTIALS=str(server.credentials))
        for _ in range(options.runs):
            sweep(same, plan, env)
    if options.slowed:
        with nginx_target(options.folder / "nginx-slowed", options.delays, port) as env:
            for _ in range(options.slowed):
                sweep(slowed, plan, env)
    for _ in range(options.defaults):
        sweep(options.folder / "defaults", ["-q"], clean_env())


def read_runs(folder: Path) -> Runs:
    """The runs in `folder` (its history.sqlite, beside them, is not one)."""
    return [level_samples(run) for run in run_folders(folder)]


def run_folders(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.is_dir()) if folder.is_dir() else []


def spread_rows(runs: Runs) -> list[list[object]]:
    """Per level and type with enough samples: the SD of log(percentile) across runs."""
    rows = []
    for users in sorted(runs[0]):
        for name in sorted(runs[0][users].type_names):
            series = [
                run[users].response_time_ms[
                    run[users].type_code == run[users].type_names.index(name)
                ]
                for run in runs
                if name in run[users].type_names
            ]
            if len(series) < 2 or min(map(len, series)) < MIN_SPREAD_SAMPLES:
                continue
            values = np.array([np.percentile(s, (50, 95, 99)) for s in series])
            spread = np.log(values).std(axis=0, ddof=1)
            rows.append([users, name, min(map(len, series)), *(100 * spread)])
    return rows


def could_see(comparisons: Sequence[Mapping]) -> str:
    """The median smallest detectable change of p95 and goodput over the comparisons."""
    seen = [level["could_see"] for c in comparisons for level in c["levels"]]
    parts = [
        f"{key} ±{np.median([s[key] for s in seen if key in s]):.0f}%"
        for key in ("p95", "goodput")
        if any(key in s for s in seen)
    ]
    return ", ".join(parts)


def history_verdicts(folder: Path) -> tuple[list[str], list[str]]:
    """The history baseline (--baseline history:N) on the same runs: each identical run
    against the other identical ones (leave one out: under A/A they are exchangeable), each
    slowed run against all of them; the run noise measured between the stored runs, as
    the verdict command does (ecsload.history.baseline)."""
    location = str(folder / "same" / HISTORY_FILE)
    target = json.loads((run_folders(folder / "same")[0] / "plan.json").read_text())["endpoint"]
    with store.transaction(location, create=False) as connection:
        runs = store.run_rows(connection, target)
        encoded = store.histograms(connection, [run.id for run in runs])

    def verdict(baseline: list[store.StoredRun], run_dir: Path) -> str:
        noise = between_run_noise(baseline) or pooled.ASSUMED_RUN_NOISE_PERCENT
        before = pooled_samples(baseline, encoded)
        now = pooled.level_samples(run_dir)
        return str(pooled.compare(before, now, pooled.Rule(run_noise_percent=noise))["verdict"])

    same = [
        verdict([other for other in runs if other is not run], Path(run.run_dir or ""))
        for run in runs
    ]
    slowed = [verdict(runs, run_dir) for run_dir in run_folders(folder / "slowed")]
    return same, slowed


def default_sweeps(folder: Path) -> None:
    """Each default sweep compared with the one before, and its saturation line."""
    runs = run_folders(folder)
    for i, run in enumerate(runs):
        text = json.loads((run / "summary.json").read_text())["saturation"]["text"]
        verdict = ""
        if i:
            verdict = compare(level_samples(runs[i - 1]), level_samples(run), Rule())["verdict"]
        print(f"  {run.name}: {verdict or '(first)'}; {text}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=6)
    p.add_argument("--service-ms", type=float, default=10, help="every endpoint's latency")
    p.add_argument("--slowed", type=int, default=3)
    p.add_argument("--delay", default="all=12", help="NAME=MS[,NAME=MS]: slowed endpoints")
    p.add_argument("--plan", default='-c "10 20" -d 10 --repeat 3 -q')
    p.add_argument("--defaults", type=int, default=6)
    p.add_argument("--folder", type=Path)
    options = p.parse_args()
    options.delays = {}
    for name, ms in (item.split("=") for item in options.delay.split(",")):
        for key in DELAYED_TYPES if name == "all" else (name,):
            options.delays[key] = float(ms)
    options.folder = options.folder or Path(tempfile.mkdtemp(prefix="bench-false-alarms-"))
    if not (options.folder / "same").is_dir():
        make_runs(options, shlex.split(options.plan))
    same, slowed = read_runs(options.folder / "same"), read_runs(options.folder / "slowed")
    print(f"{len(same)} identical runs and {len(slowed)} slowed runs in {options.folder}")
    print(f"plan: {options.plan}; service {options.service_ms:g} ms, slowed {options.delay}")
    if WALL_TIMES:
        print(f"wall time per run: {', '.join(f'{s:.0f} s' for s in WALL_TIMES)}")
    print("\nBetween-run spread: SD of log(percentile) across the identical runs, in %")
    headers = ["Users", "Request Type", "Samples", "p50", "p95", "p99"]
    print(tabulate(spread_rows(same), headers=headers, floatfmt=".1f"))
    aa = [compare(a, b, Rule()) for a, b in itertools.combinations(same, 2)]
    ab = [compare(a, b, Rule()) for a in same for b in slowed]
    alarms = sum(c["verdict"] != SAME for c in aa)
    caught = sum(c["verdict"] == SLOWER for c in ab)
    print(f"\nA/A pairs with an alarm: {alarms}/{len(aa)}; could see {could_see(aa)}")
    if ab:
        print(f"slowed pairs caught (slower): {caught}/{len(ab)}")
    same_verdicts, slowed_verdicts = history_verdicts(options.folder)
    print(
        f"history baseline (each identical run against the other {len(same) - 1}): alarms "
        f"{sum(v != SAME for v in same_verdicts)}/{len(same_verdicts)}; slowed runs against "
        f"all {len(same)}: caught {slowed_verdicts.count(SLOWER)}/{len(slowed_verdicts)}"
    )
    print("\nDefault sweeps (-n 1000), each compared with the one before:")
    default_sweeps(options.folder / "defaults")


if __name__ == "__main__":
    main()
