"""What a sweep spends besides load: seconds of wall time per level that are neither a ramp
nor measurement (issue 31's figure; aim <= 0.6 s a level).

    .venv/bin/python -m bench.bench_level_overhead [--runs 3] [--seconds 2]

Against nginx on 127.0.0.1 (tests/nginx_support.py, needs Debian's nginx), `--runs` times
each, alternating:

- a sweep of 4 timed levels (`-c "10 15 20 25" -d SECONDS --warmup 0 -q`) and one of 1
  level (`-c 10`). Overhead = wall - the ramps' and measured seconds of its levels.json.
  The difference of the two overheads over 3 levels is the **per-level** overhead (what
  each level adds: its processes' start-up, Locust's, the level's summary); what is left of
  the 1-level sweep is the **fixed** part (the plan, the run's summary, verdict, history,
  report), paid once a run. The issue's own figure, (wall - ramps - measured) / levels of
  the 4-level sweep, mixes the two: it is printed too.
- the reference, measured in the same run: plain Locust (bench/plain_locustfile.py, one
  user) run for SECONDS, its wall minus SECONDS: the floor a new Locust process per level
  costs.

Everything stops by itself; the machine's other work moves the figures (the load average
is printed with them).
"""

import argparse
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
) -> float:
    """One sweep's wall time minus its levels' ramps and measured seconds (level.json's
    `seconds`: docs/files.md)."""
    started = time.monotonic()
    result = run_script(
        "-c", " ".join(levels), "-d", f"{seconds:g}", "--warmup", "0", "-q", "--no-history",
        "-o", str(out), env=env, timeout=600,
    )  # fmt: skip
    wall = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"sweep failed (exit {result.returncode}): {result.stderr[-2000:]}")
    run = only_run_dir(out)
    busy = 0.0
    for level in levels:
        info = json.loads((run / f"level-{level}" / "level.json").read_text())
        busy += info["seconds"]  # from the first user's start to the end: ramp and measurement
    return wall - busy


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
    four, one, plain = [], [], []
    with (
        tempfile.TemporaryDirectory() as tmp,
        nginx_ecs(Path(tmp) / "nginx", access_log=False) as server,
    ):
        env = clean_env(ECS_ENDPOINT=server.url, ECS_CREDENTIALS=str(server.credentials))
        for run in range(options.runs):
            four.append(sweep_overhead(Path(tmp) / f"four-{run}", env, LEVELS, options.seconds))
            one.append(sweep_overhead(Path(tmp) / f"one-{run}", env, LEVELS[:1], options.seconds))
            plain.append(locust_overhead(server.url, options.seconds))
            print(
                f"run {run + 1}: 4 levels {four[-1]:.2f} s, 1 level {one[-1]:.2f} s, "
                f"plain Locust {plain[-1]:.2f} s of overhead",
                flush=True,
            )
    per_level = (statistics.median(four) - statistics.median(one)) / (len(LEVELS) - 1)
    fixed = statistics.median(one) - per_level
    floor = statistics.median(plain)
    print(f"\nmedians of {options.runs} runs, {options.seconds:g} s levels, against nginx:")
    print(f"  per level: {per_level:.2f} s (aim <= 0.6)")
    print(f"  fixed, once a run: {fixed:.2f} s")
    issues = statistics.median(four) / len(LEVELS)
    print(f"  the issue's figure, (wall - ramps - measured) / 4 levels: {issues:.2f} s")
    print(f"  reference, a new plain Locust process: {floor:.2f} s")
    print(f"  per level / reference: {per_level / floor:.1f}x")
    print(f"  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
