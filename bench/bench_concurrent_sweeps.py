"""Two sweeps with --processes 2 at the same time on this machine, round after round.

    .venv/bin/python -m bench.bench_concurrent_sweeps [--rounds 10] [--requests 3000]

The check of issue 19: two sweeps on one machine (different results folders),
started together against nginx on 127.0.0.1 (tests/nginx_support.py), each
`-c "5 6" -n REQUESTS -r 20 --processes 2`. Before, one of the two failed in
every round: Locust's implicit master took the fixed port 5557 (exit 4, "a port
Locust needs is taken"), or a Locust died of SIGKILL when the other sweep's
script signalled a PID it had reaped. Printed per round: each sweep's exit code,
seconds, levels in summary.json and requests per level; then the count of
rounds where both sweeps were complete. Aim: every round. Needs Debian's nginx.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

from tests.e2e_support import SCRIPT, clean_env, kill_leftovers, read_json
from tests.nginx_support import nginx_ecs, nginx_missing

LEVELS = (5, 6)
SWEEPS = 2
COLUMNS = ("exit", "seconds", "requests", "stderr")  # requests: per level; stderr: its last line


def sweep_args(requests: int, results: Path) -> list[str]:
    levels = " ".join(map(str, LEVELS))
    sweep = ["-q", "-c", levels, "-n", str(requests), "-r", "20", "--processes", "2"]
    return [str(SCRIPT), *sweep, "-o", str(results)]


def outcome(process: subprocess.Popen[str], results: Path, requests: int) -> dict[str, object]:
    """What one sweep left: exit code, levels and their requests, whether it is complete."""
    runs = [p for p in results.iterdir() if p.is_dir()] if results.exists() else []
    summary = runs[0] / "summary.json" if len(runs) == 1 else None
    levels = read_json(summary)["levels"] if summary and summary.exists() else []
    counts = [level["requests"] for level in levels]
    complete = process.returncode == 0 and counts == [requests] * len(LEVELS)
    return {"exit": process.returncode, "requests": counts, "complete": complete}


def one_round(env: dict[str, str], folder: Path, requests: int) -> list[dict[str, object]]:
    folders = [folder / f"sweep-{i}" for i in range(SWEEPS)]
    started = time.monotonic()
    sweeps = [
        subprocess.Popen(
            sweep_args(requests, results),
            env=env,
            text=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        for results in folders
    ]
    try:
        errors = [sweep.communicate(timeout=600)[1] for sweep in sweeps]
    finally:
        for results in folders:
            kill_leftovers(str(results))
    seconds = time.monotonic() - started
    rows = []
    for sweep, results, error in zip(sweeps, folders, errors, strict=True):
        row = outcome(sweep, results, requests)
        row["seconds"] = round(seconds, 1)
        row["stderr"] = error.strip().splitlines()[-1][:100] if error.strip() else ""
        rows.append(row)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=3000)
    options = parser.parse_args()
    if missing := nginx_missing():
        sys.exit(missing)
    table, good = [], 0
    with (
        tempfile.TemporaryDirectory() as tmp,
        nginx_ecs(Path(tmp) / "nginx", access_log=False) as server,
    ):
        env = clean_env(ECS_ENDPOINT=server.url, ECS_CREDENTIALS=str(server.credentials))
        for number in range(1, options.rounds + 1):
            rows = one_round(env, Path(tmp) / f"round-{number}", options.requests)
            good += all(row["complete"] for row in rows)
            for index, row in enumerate(rows):
                table.append([number, index + 1, *(row[k] for k in COLUMNS)])
            print(tabulate(table[-SWEEPS:], tablefmt="plain"), flush=True)
    print()
    print(tabulate(table, headers=["round", "sweep", *COLUMNS]))
    print(f"\nrounds with both sweeps complete: {good} of {options.rounds}")
    return 0 if good == options.rounds else 1


if __name__ == "__main__":
    sys.exit(main())
