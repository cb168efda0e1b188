"""Requests/s of this harness next to wrk and plain Locust, on one loopback target, in one run.

    .venv/bin/python -m bench.bench_scale [--seconds S] [--users U] [--targets node,nginx]

Targets, both on 127.0.0.1: the local node's GET /v1.1/_noop (ecservice.py, no
credentials, log level warning), and nginx (Debian's package) serving the same
path as a static JSON file from a config in a temporary folder. Drivers, one
after the other on the same cores, each for S seconds: wrk (1 thread, U
connections), plain Locust HttpUser and FastHttpUser, and the harness
(bench/harness_locustfile.py: ECSUser, budget, samples) with 1 process and with
--processes 2, each also bounded by a request count. Other work on the machine
moves the figures by up to ±30%: compare only within one run.
"""

import argparse
import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.ecsload_support import ROOT, locust_args, run_command
from tests.nginx_support import nginx_ecs, nginx_missing
from tests.node_fixtures import running_node

NOOP = "/v1.1/_noop"
MAX_REQUESTS = 5_000_000  # the harness's count bound; the time bound comes first


@contextlib.contextmanager
def nginx(folder: Path) -> Iterator[str]:
    """nginx answering the API on a free loopback port, no auth, no access log."""
    if missing := nginx_missing():
        raise SystemExit(missing)
    with nginx_ecs(folder, auth=False, access_log=False) as server:
        yield server.url


@contextlib.contextmanager
def node(folder: Path) -> Iterator[str]:
    """The local ECS node without credentials, logging warnings only."""
    with running_node(folder, "--log-level", "warning") as running:
        yield running.base


def wrk(url: str, seconds: int, users: int) -> float:
    result = run_command(
        ["wrk", "-t1", f"-c{users}", f"-d{seconds}s", url + NOOP], timeout=seconds + 30
    )
    found = re.search(r"Requests/sec:\s*([\d.]+)", result.stdout)
    if result.returncode or not found:
        raise SystemExit(f"wrk failed: {result.stdout}{result.stderr}")
    return float(found.group(1))


def plain_locust(url: str, folder: Path, user: str, seconds: int, users: int) -> float:
    """Requests/s of plain Locust, from its --json-file: requests over first to last."""
    folder.mkdir()
    result = run_command(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "bench" / "plain_locustfile.py"),
            "--headless",
            "--host",
            url,
            "-u",
            str(users),
            "-r",
            "1000",
            "--run-time",
            f"{seconds}s",
            "--only-summary",
            "--json-file",
            str(folder / "stats"),
            "--logfile",
            str(folder / "locust.log"),
            user,
        ],
        timeout=seconds + 60,
    )
    if result.returncode:
        raise SystemExit(f"locust failed: {result.stderr[-2000:]}")
    [stats] = json.loads((folder / "stats.json").read_text())
    return stats["num_requests"] / (stats["last_request_timestamp"] - stats["start_time"])


def harness(url: str, folder: Path, processes: int, seconds: int, users: int) -> float:
    """Requests/s of the harness, from level.json: answered samples over the level's span."""
    folder.mkdir()
    spread = (
        ["--processes", str(processes), "--expect-workers-max-wait", "60"] if processes > 1 else []
    )
    result = run_command(
        locust_args(
            url,
            folder,
            "-u",
            str(users),
            "-r",
            "1000",
            "--run-time",
            f"{seconds}s",
            "--stop-after-requests",
            str(MAX_REQUESTS),
            "--ecs-credentials",
            "",
            *spread,
            locustfile=ROOT / "bench" / "harness_locustfile.py",
        ),
        timeout=seconds + 60,
    )
    if result.returncode:
        raise SystemExit(f"locust failed: {result.stderr[-2000:]}")
    info = json.loads((folder / "level.json").read_text())
    answered = info["samples"] - info["unanswered"]  # those in flight at the cap had none
    if answered != info["locust_requests"]:
        print(f"  (samples {answered} != Locust's count {info['locust_requests']})")
    return answered / info["seconds"]


def bench_target(name: str, url: str, folder: Path, seconds: int, users: int) -> None:
    print(f"{name} @ {url}{NOOP}: {seconds} s per driver, {users} users/connections")
    rates = {
        "wrk (1 thread)": wrk(url, seconds, users),
        "Locust HttpUser": plain_locust(url, folder / "http", "PlainHttpUser", seconds, users),
        "Locust FastHttpUser": plain_locust(
            url, folder / "fast", "PlainFastHttpUser", seconds, users
        ),
        "harness, 1 process": harness(url, folder / "h1", 1, seconds, users),
        "harness, --processes 2": harness(url, folder / "h2", 2, seconds, users),
    }
    for driver, rate in rates.items():
        print(f"  {driver:<24} {rate:9,.0f} requests/s")
    fast, wrk_rate = rates["Locust FastHttpUser"], rates["wrk (1 thread)"]
    one, two = rates["harness, 1 process"], rates["harness, --processes 2"]
    print(
        f"  harness 1 process / plain FastHttpUser {one / fast:.2f} (aim >= 0.95); "
        f"/ wrk {one / wrk_rate:.2f}"
    )
    print(
        f"  harness --processes 2 / 1 process {two / one:.2f} (aim >= 1.7 where the target is "
        f"not the bottleneck); / plain FastHttpUser {two / fast:.2f}; / wrk {two / wrk_rate:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--targets", default="node,nginx")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y nginx wrk")
    print(f"{os.cpu_count()} cores; load and target share them")
    targets = {"node": node, "nginx": nginx}
    for name in options.targets.split(","):
        with tempfile.TemporaryDirectory() as tmp, targets[name](Path(tmp) / name) as url:
            bench_target(name, url, Path(tmp), options.seconds, options.users)


if __name__ == "__main__":
    main()
