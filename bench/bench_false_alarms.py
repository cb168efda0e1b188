"""Does the baseline comparison cry wolf, and does it catch a slowdown, whatever the source?

    .venv/bin/python -m bench.bench_false_alarms [--quick] [--runs 6] [--slowed 3]
        [--factor 1.3] [--service-ms 10] [--plan '-c "10 20" -d 5 --repeat 2 -q']
        [--gross 4] [--single 3] [--preset] [--folder DIR]

Runs the same sweep (run_load_test.sh) `--runs` times back to back against the nginx
stand-in whose every endpoint takes `--service-ms` (as a real deployment's do), every run
recorded in one history (results/history.sqlite), then `--slowed` more with every endpoint
`--factor` times slower (same port, so the same target). Then it judges, side by side,
with the one comparison engine (ecsload.analysis.comparison), each later run
against each baseline source as the verdict command would have:

- folder: the run folder just before it;
- last: the stored run just before it (its windows decoded from the history);
- history:5: the five stored runs before it, pooled;

each with the drift floor measured between the stored runs before it (three or more),
else the default. An identical run whose verdict is `slower` or `faster` is a false
alarm; a slowed run is caught when `slower`. With `--single N`, N more runs of one
repeat each (`--repeat 1`) at the service time and N at `--gross` times it: each gross
run against the identical single-repeat run before it (folder), and the A/A pairs
among the identical ones. With `--preset`, the CI preset (ci-smoke.json) is run the
same way (identical runs, then slowed) and judged with `--baseline history`.

Printed: per source the A/A pairs with an alarm, the slowed runs caught and what the
comparison could see (median p95 and goodput), the wall time per run, and the load
average before and after (the stand-in shares the machine: other work there makes the
service truly slower, so give the load average with the figures). `--quick`: 3 + 2 runs
of one short level, 2 + 2 single-repeat runs: it shows the bench works, not the rates.
"""

import argparse
import os
import shlex
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ecsload.analysis.comparison import (
    DEFAULT_DRIFT,
    FASTER,
    SLOWER,
    Rule,
    compare,
    level_samples,
)
from ecsload.analysis.samples import Samples
from ecsload.exits import EXIT_OK, EXIT_REGRESSION, EXIT_THRESHOLDS, EXIT_USAGE
from ecsload.history import store, windows
from ecsload.history.baseline import MIN_DRIFT_RUNS, drift_between
from tests.e2e_support import ROOT, clean_env
from tests.nginx_support import DELAYED_ENDPOINTS, free_port, nginx_ecs, nginx_missing

HISTORY_FILE = "history.sqlite"  # the default history, in the results folder
RUN_TIMEOUT_S = 1800
POOLED = 5
WALL_TIMES: list[float] = []


def sweep(results: Path, plan: Sequence[str], env: dict[str, str]) -> int:
    """One run of the script into `results`; its exit code (stops the bench when it could
    not run)."""
    started = time.monotonic()
    result = subprocess.run(
        [str(ROOT / "run_load_test.sh"), *plan, "-o", str(results)],
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    WALL_TIMES.append(time.monotonic() - started)
    if result.returncode not in (EXIT_OK, EXIT_THRESHOLDS, EXIT_REGRESSION, EXIT_USAGE):
        raise SystemExit(f"a sweep failed (exit {result.returncode}): {result.stderr}")
    return result.returncode


def make_runs(
    results: Path, plan: Sequence[str], service_ms: float, counts: tuple[int, int], factor: float
) -> None:
    """counts[0] runs at the service time, then counts[1] at `factor` times it, into one
    results folder (and so one history), against the stand-in on one port."""
    port = free_port()
    for n, ms in [(counts[0], service_ms), (counts[1], service_ms * factor)]:
        delays = dict.fromkeys(DELAYED_ENDPOINTS, ms)
        for _ in range(n):
            stand_in = results.parent / f"nginx-{len(WALL_TIMES)}"
            with nginx_ecs(stand_in, access_log=False, delays=delays, port=port) as server:
                env = clean_env(ECS_ENDPOINT=server.url, ECS_CREDENTIALS=str(server.credentials))
                sweep(results, plan, env)


def run_folders(results: Path) -> list[Path]:
    return sorted(path for path in results.iterdir() if path.is_dir())


def stored_runs(results: Path) -> tuple[list[store.StoredRun], dict[int, dict[int, Samples]]]:
    """The history's runs (oldest first) and their levels decoded from their windows."""
    location = str(results / HISTORY_FILE)
    with store.transaction(location, create=False) as connection:
        target = store.latest_target(connection) or ""
        runs = store.run_rows(connection, target)
        encoded = store.level_windows(connection, [run.id for run in runs])
    decoded = {
        run.id: {key: windows.decode(blob) for key, blob in encoded.get(run.id, {}).items()}
        for run in runs
    }
    return runs, decoded


def rule_before(runs: Sequence[store.StoredRun]) -> Rule:
    """The rule the verdict command would use: the drift between the stored runs."""
    if len(runs) >= MIN_DRIFT_RUNS and (measured := drift_between(runs)):
        return Rule(drift={**DEFAULT_DRIFT, **measured}, drift_source="measured")
    return Rule()


def judged(results: Path, first: int) -> dict[str, list[dict[str, Any]]]:
    """Each run from the `first` on, against each source (see the module's docstring)."""
    runs, decoded = stored_runs(results)
    folders = run_folders(results)
    found: dict[str, list[dict[str, Any]]] = {"folder": [], "last": [], f"history:{POOLED}": []}
    for i in range(max(first, 1), len(runs)):
        now = level_samples(folders[i])
        rule = rule_before(runs[:i])
        found["folder"].append(compare(level_samples(folders[i - 1]), now, rule))
        found["last"].append(compare(decoded[runs[i - 1].id], now, rule))
        chosen = runs[max(0, i - POOLED) : i]
        keys = set.intersection(*(set(decoded[run.id]) for run in chosen))
        pooled = {key: windows.pooled([decoded[run.id][key] for run in chosen]) for key in keys}
        found[f"history:{POOLED}"].append(compare(pooled, now, rule))
    return found


def could_see(comparisons: Sequence[Mapping[str, Any]]) -> str:
    """The median smallest detectable change of p95 and goodput over the comparisons."""
    seen = [level["could_see"] for c in comparisons for level in c["levels"]]
    parts = [
        f"{key} ±{np.median([s[key] for s in seen if key in s]):.0f}%"
        for key in ("p95", "goodput")
        if any(key in s for s in seen)
    ]
    return ", ".join(parts) or "-"


def report(title: str, results: Path, identical: int, slowed: int) -> None:
    """Per source: the A/A alarms among the identical runs, the slowed ones caught."""
    print(f"\n{title} ({identical} identical runs, then {slowed} slowed; {results})")
    for source, comparisons in judged(results, 1).items():
        a_a = comparisons[: identical - 1]
        a_b = comparisons[identical - 1 :][-slowed:] if slowed else []
        b_first = a_b[:1]  # the first slowed run against identical ones
        alarms = sum(c["verdict"] in (SLOWER, FASTER) for c in a_a)
        caught = sum(c["verdict"] == SLOWER for c in b_first)
        print(
            f"  {source:>10}: A/A alarms {alarms}/{len(a_a)}; first slowed run caught "
            f"{caught}/{len(b_first)}; could see {could_see(a_a)}; verdicts "
            + " ".join(c["verdict"].replace(" ", "-") for c in comparisons)
        )


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=6)
    p.add_argument("--slowed", type=int, default=3)
    p.add_argument("--factor", type=float, default=1.3)
    p.add_argument("--service-ms", type=float, default=10.0, help="every endpoint's latency")
    p.add_argument("--plan", default='-c "10 20" -d 5 --repeat 2 -q')
    p.add_argument("--gross", type=float, default=4.0)
    p.add_argument("--single", type=int, default=3, help="single-repeat runs at each time")
    p.add_argument("--preset", action="store_true", help="the CI preset too")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--folder", type=Path)
    options = p.parse_args()
    if options.quick:
        options.runs, options.slowed, options.single = 3, 2, 2
        options.plan = "-c 10 -d 3 --repeat 2 -q"
    if missing := nginx_missing():
        raise SystemExit(missing)
    folder = options.folder or Path(tempfile.mkdtemp(prefix="bench-false-alarms-"))
    print(f"load average before: {load()}; plan {options.plan}; service {options.service_ms:g} ms")
    plan = shlex.split(options.plan)
    repeated = folder / "repeated" / "results"
    make_runs(repeated, plan, options.service_ms, (options.runs, options.slowed), options.factor)
    report(f"{options.factor:g}x slower", repeated, options.runs, options.slowed)
    if options.single:
        single = folder / "single" / "results"
        once = [*plan, "--repeat", "1"]
        make_runs(single, once, options.service_ms, (options.single, options.single), options.gross)
        report(f"{options.gross:g}x slower, one repeat", single, options.single, options.single)
    if options.preset:
        preset = folder / "preset" / "results"
        ci = [str(ROOT / "ci-smoke.json"), "-q"]
        make_runs(preset, ci, options.service_ms, (options.runs, options.slowed), options.factor)
        report(f"CI preset, {options.factor:g}x slower", preset, options.runs, options.slowed)
    print(f"\nwall time per run: {', '.join(f'{s:.0f} s' for s in WALL_TIMES)}")
    print(f"load average after: {load()} (a shared machine: read the rates with it)")


if __name__ == "__main__":
    main()
