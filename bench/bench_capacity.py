"""The capacity search against a stand-in of known capacity and against the local node.

    .venv/bin/python -m bench.bench_capacity [--searches 5] [--seconds 5] [--quick]

1. tests/limit_server.py, K requests in service at once for D ms each (4 x 10 ms: at most
   400 req/s, the truth): `run_load_test.sh capacity --slo 'p99<50'` --searches times.
   Per search: the answer, its interval, what limited it, the steps and the wall time;
   then the spread of the answers, and in how many the answer is within 10% of the truth
   and the truth inside the printed interval (aims: 5 of 5; at most 12 steps and 3
   minutes a search at the default settings).
2. The local ECS node (started by each search): the same, without a known truth.

--quick: two searches of each, 2 s steps. Everything runs on 127.0.0.1 and stops by
itself; the machine's other work moves the figures (say its load with them).
"""

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from tests.e2e_support import clean_env, only_run_dir, run_script
from tests.limit_server import limit_server
from tests.nginx_support import free_port

AT_ONCE, MS = 4, 10.0
TRUTH = AT_ONCE * 1000 / MS


def one_search(out: Path, env: dict[str, str], seconds: float, *args: str) -> dict:
    started = time.monotonic()
    result = run_script(
        "capacity", "-q", "--slo", "p99<50", "-d", f"{seconds:g}", "--probe-rate", "0",
        "-o", str(out), *args, env=env, timeout=1800,
    )  # fmt: skip
    wall = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"search failed (exit {result.returncode}): {result.stderr[-2000:]}")
    found = json.loads((only_run_dir(out) / "summary.json").read_text())["capacity"]
    return {**found, "wall": wall}


def show(name: str, searches: list[dict], truth: float | None) -> None:
    print(f"\n{name}")
    for i, found in enumerate(searches, 1):
        print(
            f"  search {i}: {found['rate']} req/s {found['interval']} limited by "
            f"{found['limited_by']}, {len(found['steps'])} steps, {found['wall']:.0f} s"
        )
    rates = [found["rate"] for found in searches if found["rate"] is not None]
    if len(rates) > 1:
        spread = 100 * (max(rates) - min(rates)) / statistics.median(rates)
        print(f"  answers {min(rates)} to {max(rates)} req/s: spread {spread:.1f}% of the median")
    steps = [len(found["steps"]) for found in searches]
    walls = [found["wall"] for found in searches]
    print(
        f"  steps: at most {max(steps)} (aim <= 12); wall: at most {max(walls):.0f} s (aim <= 180)"
    )
    if truth is not None:
        close = sum(r is not None and abs(r - truth) <= 0.1 * truth for r in rates)
        inside = sum(
            found["interval"][0] is not None
            and found["interval"][0] <= truth <= (found["interval"][1] or float("inf"))
            for found in searches
        )
        print(
            f"  truth {truth:g} req/s: answer within 10% in {close} of {len(searches)}; "
            f"inside the interval in {inside} of {len(searches)}"
        )


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.bench_capacity", description=__doc__)
    p.add_argument("--searches", type=int, default=5)
    p.add_argument("--seconds", type=float, default=5.0, help="-d: each step's seconds")
    p.add_argument("--quick", action="store_true", help="two searches of each, 2 s steps")
    options = p.parse_args()
    if options.quick:
        options.searches, options.seconds = 2, 2.0
    print(f"load average at the start: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench-capacity-") as scratch:
        root = Path(scratch)
        credentials = root / "credentials.txt"
        credentials.write_text("key:secret\n")
        with limit_server(free_port(), AT_ONCE, MS) as url:
            env = clean_env(ECS_ENDPOINT=url, ECS_CREDENTIALS=str(credentials))
            stand_in = [
                one_search(root / f"stand-in-{i}", env, options.seconds)
                for i in range(options.searches)
            ]
        show(f"Stand-in: {AT_ONCE} at once x {MS:g} ms (truth {TRUTH:g} req/s)", stand_in, TRUTH)
        node = [
            one_search(root / f"node-{i}", clean_env(), options.seconds)
            for i in range(options.searches)
        ]
        show("The local ECS node", node, None)
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
