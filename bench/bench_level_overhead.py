"""What a sweep spends besides load: seconds of wall time per level that are neither a ramp
nor measurement (issue 31's figure; aim <= 0.6 s a level).

    .venv/bin/python -m bench.bench_level_overhead [--runs 3] [--seconds 2]

Against nginx on 127.0.0.1 (tests/nginx_support.py, needs Debian's nginx), `--runs` times,
alternating:

- a sweep of 4 timed levels (`-c "10 15 20 25" -d SECONDS --warmup 0 -q`). From each
  level's level.json (`started`: its first user's start; `ended`: its end; `seconds`: the
  two apart, ramp and measurement):
  - **per level**: the gap from one level's end to the next one's first user (Locust's
    exit, the level's summary, the next level's start), the mean of the 3 gaps;
  - **once a run**: the rest of the wall time that is not load: before the first level
    (the plan, the level server's imports, the endpoint's check) and after the last (the
    run's summary, verdict, history and report);
  - the issue's own figure, (wall - ramps - measured) / 4 levels, which mixes the two.
- the reference, measured in the same run: plain Locust (bench/plain_locustfile.py, one
  user) run for SECONDS, its wall minus SECONDS: what a new Locust process per level would
  cost.

Everything stops by itself; the machine's other work moves the figures (the load average
is printed with them).
"""

import argparse
import datetime
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.e2e_support import ROOT, clean_env, only_run_dir, run_script
from tests.nginx_support import nginx_ecs, nginx_missing

LEVELS = ("10", "15", "20", "25")


def sweep_overhead(
    out: Path, env: dict[str, str], levels: tuple[str, ...], seconds: float
) -> tuple[float, float]:
    """One sweep's wall time minus its levels' ramps and measured seconds, and the mean gap
    between one level's end and the next one's start (level.json: docs/files.md)."""
    started = time.monotonic()
    result = run_script(
        "-c", " ".join(levels), "-d", f"{seconds:g}", "--warmup", "0", "-q", "--no-history",
        "-o", str(out), env=env, timeout=600,
    )  # fmt: skip
    wall = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"sweep failed (exit {result.returncode}): {result.stderr[-2000:]}")
    run = only_run_dir(out)
    infos = [json.loads((run / f"level-{level}" / "level.json").read_text()) for level in levels]
    busy = sum(info["seconds"] for info in infos)  # from the first user's start to the end
    gaps = [
        (instant(after["started"]) - instant(before["ended"])).total_seconds()
        for before, after in itertools.pairwise(infos)
    ]
    return wall - busy, statistics.mean(gaps)


def instant(stamp: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(stamp)


def locust_overhead(url: str, seconds: float) -> float:
    """Plain Locust, one user, for `seconds`: its wall time minus them. Its requests are
    refused (401: it sends no credentials), so it exits 1; only its time is wanted."""
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "plain_locustfile.py"),
            "PlainHttpUser", "--headless", "-u", "1", "-r", "1", "-t", f"{seconds:g}s",
            "--host", url, "--only-summary", "-L", "ERROR",
        ],
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    return time.monotonic() - started - seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0)
    options = parser.parse_args()
    if missing := nginx_missing():
        sys.exit(missing)
    overheads, gaps, plain = [], [], []
    with (
        tempfile.TemporaryDirectory() as tmp,
        nginx_ecs(Path(tmp) / "nginx", access_log=False) as server,
    ):
        env = clean_env(ECS_ENDPOINT=server.url, ECS_CREDENTIALS=str(server.credentials))
        for run in range(options.runs):
            overhead, gap = sweep_overhead(Path(tmp) / f"run-{run}", env, LEVELS, options.seconds)
            overheads.append(overhead)
            gaps.append(gap)
            plain.append(locust_overhead(server.url, options.seconds))
            print(
                f"run {run + 1}: {overhead:.2f} s not load in all, {gap:.2f} s between levels, "
                f"plain Locust {plain[-1]:.2f} s of overhead",
                flush=True,
            )
    per_level = statistics.median(gaps)
    fixed = statistics.median(overheads) - (len(LEVELS) - 1) * per_level
    floor = statistics.median(plain)
    print(f"\nmedians of {options.runs} runs, {options.seconds:g} s levels, against nginx:")
    print(f"  per level (one level's end to the next one's first user): {per_level:.2f} s")
    print(f"  once a run (before the first level and after the last): {fixed:.2f} s")
    issues = statistics.median(overheads) / len(LEVELS)
    print(f"  the issue's figure, (wall - ramps - measured) / 4 levels: {issues:.2f} s")
    print(f"  reference, a new plain Locust process: {floor:.2f} s")
    print(f"  per level / reference: {per_level / floor:.2f}x")
    print(f"  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
