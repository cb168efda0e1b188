#!/usr/bin/env python3
"""Benchmark: the happy-path task (`echo hello world`) through a real local node, with the docker
runner and the process runner side by side in one run (this machine's figures vary by up to
±30% between runs, so only figures from one run compare).

For each concurrency level and each runner it sends a bounded number of POST /v1.1/tasks over
loopback from that many client threads, and prints tasks/s and the latency p50/p99 of the
answers. It starts scripts/local-docker.sh (and stops it afterwards) unless it already runs.

Usage: .venv/bin/python -m bench.bench_runners [--requests N] [--concurrency 4,8] [--time-cap S]
Exit codes: 0 done; 2 usage (argparse's); 3 no local Docker (the script's reason is printed);
4 a node did not start or a task failed.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests
from tabulate import tabulate

from tests.node_fixtures import running_node

ROOT = Path(__file__).resolve().parent.parent
LOCAL_DOCKER = ROOT / "scripts" / "local-docker.sh"
CMD = ["echo", "hello world"]
IMAGES = {"docker": "127.0.0.1:5000/ubuntu:14.04", "process": "ubuntu:14.04"}
WARM_UP = 5
EXIT_NO_DOCKER = 3
EXIT_FAILED = 4


class BenchError(Exception):
    """Something the benchmark needs did not work; the message is the one line printed."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Level:
    runner: str
    concurrency: int
    latencies: list[float]
    failures: int
    seconds: float

    def row(self) -> list[object]:
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return [
            self.runner,
            self.concurrency,
            len(self.latencies),
            self.failures,
            round(len(self.latencies) / self.seconds, 1),
            round(cuts[49] * 1000, 1),
            round(cuts[98] * 1000, 1),
        ]


@contextlib.contextmanager
def local_docker() -> Iterator[str]:
    """The DOCKER_HOST of scripts/local-docker.sh; stopped afterwards if this run started it."""
    was_running = subprocess.run([LOCAL_DOCKER, "status"], capture_output=True).returncode == 0
    started = subprocess.run([LOCAL_DOCKER, "start"], capture_output=True, text=True, timeout=120)
    if started.returncode != 0:
        reason = started.stderr.strip().splitlines()[-1:] or ["no reason given"]
        raise BenchError(f"cannot start local Docker: {reason[0]}", EXIT_NO_DOCKER)
    try:
        yield started.stdout.strip().removeprefix("DOCKER_HOST=")
    finally:
        if not was_running:
            subprocess.run([LOCAL_DOCKER, "stop"], capture_output=True, timeout=120)


@contextlib.contextmanager
def node(folder: Path, runner: str, docker_host: str) -> Iterator[str]:
    """A node with one runner, auth off, its files in FOLDER/RUNNER; yields its tasks URL."""
    args = [f"--runner={runner}", "--log-level=warning"]
    if runner == "docker":
        args.append(f"--docker-remote-api={docker_host}")
    with contextlib.ExitStack() as stack:
        try:
            running = stack.enter_context(running_node(folder / runner, *args))
        except AssertionError as error:
            raise BenchError(f"the {runner} node did not start: {error}") from None
        yield f"{running.api}/tasks"


def load(url: str, runner: str, total: int, concurrency: int, time_cap: float) -> Level:
    """TOTAL happy-path tasks from CONCURRENCY client threads (none started after TIME_CAP s)."""
    body = {"docker_image": IMAGES[runner], "cmd": CMD}
    lock = threading.Lock()
    tickets = iter(range(total))
    latencies: list[float] = []
    failures = [0]
    started = time.perf_counter()
    deadline = started + time_cap

    def client() -> None:
        with requests.Session() as session:
            while time.perf_counter() < deadline:
                with lock:
                    if next(tickets, None) is None:
                        return
                sent = time.perf_counter()
                try:
                    answer = session.post(url, json=body, timeout=60)
                    ok = answer.status_code == 201 and answer.json()["exitCode"] == 0
                except requests.RequestException:
                    ok = False
                took = time.perf_counter() - sent
                with lock:
                    if ok:
                        latencies.append(took)
                    else:
                        failures[0] += 1

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Level(runner, concurrency, latencies, failures[0], time.perf_counter() - started)


def measure(url: str, runner: str, args: argparse.Namespace, concurrency: int) -> Level:
    """One level, after a few serial warm-up tasks (the image pull, the connections)."""
    if load(url, runner, WARM_UP, 1, args.time_cap).failures:
        raise BenchError(f"the {runner} runner failed its warm-up tasks")
    level = load(url, runner, args.requests, concurrency, args.time_cap)
    if len(level.latencies) < 2:
        raise BenchError(f"the {runner} runner completed fewer than 2 tasks at {concurrency}")
    return level


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Exit codes: 0 done; 2 usage; 3 no local "
        "Docker; 4 a node did not start or a task failed.",
    )
    parser.add_argument("--requests", type=int, default=200, help="tasks per level (default 200)")
    parser.add_argument(
        "--concurrency", default="4,8", help="client threads per level, comma-separated"
    )
    parser.add_argument(
        "--time-cap", type=float, default=120, help="seconds per level at most (default 120)"
    )
    args = parser.parse_args(argv)
    try:
        args.levels = [int(word) for word in args.concurrency.split(",")]
    except ValueError:
        parser.error(f"--concurrency must be numbers like 4,8, not {args.concurrency!r}")
    if args.requests < 2 or args.time_cap <= 0 or min(args.levels) < 1:
        parser.error("--requests must be >= 2, --time-cap > 0 and each concurrency >= 1")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    rows = []
    try:
        with (
            local_docker() as docker_host,
            tempfile.TemporaryDirectory(prefix="bench-runners-") as folder,
            node(Path(folder), "docker", docker_host) as docker_url,
            node(Path(folder), "process", docker_host) as process_url,
        ):
            urls = {"docker": docker_url, "process": process_url}
            for concurrency in args.levels:
                for runner, url in urls.items():
                    rows.append(measure(url, runner, args, concurrency).row())
    except BenchError as error:
        print(f"bench_runners: {error}", file=sys.stderr)
        return error.code
    headers = ["runner", "concurrent", "tasks", "failed", "tasks/s", "p50 ms", "p99 ms"]
    print(f"Tasks-Happy-Path ({' '.join(CMD)}), {args.requests} tasks per level, one node each")
    print(tabulate(rows, headers=headers))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
