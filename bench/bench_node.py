"""Benchmark the local ECS node against a bare Tornado handler, side by side, with wrk.

    .venv/bin/python bench/bench_node.py [--duration S] [--rounds N]

Starts the node (auth on, credentials from `python -m ecsnode.creds`, access log on) and a bare
Tornado app whose one handler returns the same `_noop` body, each pinned to the same core
(wrk on the other when taskset is there). Loads each in turn with wrk on 127.0.0.1 and prints
requests/s and p50/p99 for both, their ratio (aim: node >= 0.7x bare), then POST /tasks
(`echo hello world`) at 10 concurrent clients (aim: p50 < 10 ms), the same number of rounds,
with each round's p50 and the CPU the node and its task processes used per task. Latency
figures from one run only compare with each other: other load on the machine moves them all;
CPU per task moves much less, so it is the figure to compare a change by.
Exit codes: 0 done; 1 a target answered anything but the expected status; 2 wrk missing.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READY_WITHIN_S = 20.0
TASK_BODY = {"docker_image": "ubuntu:14.04", "cmd": ["echo", "hello world"]}
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class Figures:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    bad_answers: int
    requests: int


def serve_bare(ready_file: str) -> None:
    """The reference: a bare Tornado handler returning the node's _noop body, nothing else."""
    import asyncio

    import tornado.netutil
    import tornado.web

    class Noop(tornado.web.RequestHandler):
        def get(self) -> None:
            request = self.request
            href = f"{request.protocol}://{request.host}{request.path}"
            self.write({"links": {"self": {"href": href}}})

    async def main() -> None:
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        server = tornado.httpserver.HTTPServer(tornado.web.Application([(r"/v1\.1/_noop", Noop)]))
        server.add_sockets(sockets)
        Path(ready_file).write_text(f"http://127.0.0.1:{sockets[0].getsockname()[1]}\n")
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()

    asyncio.run(main())


def pinned(core: int | None) -> list[str]:
    return ["taskset", "-c", str(core)] if core is not None else []


@contextlib.contextmanager
def started(command: list[str], ready: Path) -> Iterator[tuple[str, int]]:
    """Run a server in its own process group until the block ends; yields its URL and pid
    (taskset execs the server, so the pid is the server's own)."""
    proc = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + READY_WITHIN_S
        while not ready.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"bench_node: {command[-1]} did not start")
            time.sleep(0.02)
        yield ready.read_text().strip(), proc.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def to_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * UNITS_MS[unit]


def run_wrk(url: str, duration: int, connections: int, core: int | None, *extra: str) -> Figures:
    """Load `url` with wrk for `duration` seconds and read its summary."""
    command = [*pinned(core), "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    done = subprocess.run(
        [*command, *extra, url], capture_output=True, text=True, timeout=duration + 30, check=True
    )
    out = done.stdout
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    done_requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Socket errors:.*", out)
    if errors:
        print(f"  wrk: {errors.group(0)}", file=sys.stderr)
    bad_answers = int(bad.group(1)) if bad else 0
    return Figures(rate, to_ms(p50), to_ms(p99), bad_answers, done_requests)


def cpu_ms(pid: int) -> tuple[float, float]:
    """CPU milliseconds so far of process `pid` itself and of its children it has reaped."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(field) for field in fields[11:15])
    tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
    return (utime + stime) * tick_ms, (cutime + cstime) * tick_ms


def row(name: str, figures: Figures) -> str:
    return (
        f"{name:<44} {figures.requests_per_s:>9.0f} {figures.p50_ms:>8.2f} {figures.p99_ms:>8.2f}"
    )


def median(runs: list[Figures]) -> Figures:
    return Figures(
        statistics.median(f.requests_per_s for f in runs),
        statistics.median(f.p50_ms for f in runs),
        statistics.median(f.p99_ms for f in runs),
        sum(f.bad_answers for f in runs),
        sum(f.requests for f in runs),
    )


def bench(folder: Path, duration: int, rounds: int) -> int:
    cores = os.cpu_count() or 1
    server_core, wrk_core = (0, 1) if cores > 1 and shutil.which("taskset") else (None, None)
    made = subprocess.run(
        [sys.executable, "-m", "ecsnode.creds", "1", "--htpasswd", str(folder / ".htpasswd")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    token = base64.b64encode(made.stdout.strip().encode()).decode()
    auth = ["-H", f"Authorization: Basic {token}"]

    def node_command(core: int | None, name: str) -> list[str]:
        return [
            *pinned(core), sys.executable, str(ROOT / "ecservice.py"), "--port", "0",
            "--runner", "process", "--htpasswd", str(folder / ".htpasswd"),
            "--log-file", str(folder / f"{name}.log"),
            "--ready-file", str(folder / f"{name}.ready"),
        ]  # fmt: skip

    bare_ready = folder / "bare.ready"
    bare_command = [*pinned(server_core), sys.executable, __file__, "--serve-bare", str(bare_ready)]
    lua = folder / "task.lua"
    lua.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(json.dumps(TASK_BODY))}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    pinning = "unpinned"
    if wrk_core is not None:
        pinning = (
            f"_noop servers on core {server_core} (tasks node unpinned), wrk on core {wrk_core}"
        )
    print(f"wrk: {duration} s per run, 10 connections, {pinning}; medians of {rounds} rounds")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    bare_runs: list[Figures] = []
    node_runs: list[Figures] = []
    with (
        started(node_command(server_core, "node"), folder / "node.ready") as (node_url, _),
        started(bare_command, bare_ready) as (bare_url, _),
    ):
        for _ in range(rounds):
            bare_runs.append(run_wrk(f"{bare_url}/v1.1/_noop", duration, 10, wrk_core))
            node_runs.append(run_wrk(f"{node_url}/v1.1/_noop", duration, 10, wrk_core, *auth))
    # Task processes inherit the node's core; unpinned, they may use any, as on a real host.
    task_runs: list[Figures] = []
    with started(node_command(None, "tasks"), folder / "tasks.ready") as (node_url, pid):
        before = cpu_ms(pid)
        for _ in range(rounds):
            task_runs.append(
                run_wrk(f"{node_url}/v1.1/tasks", duration, 10, wrk_core, *auth, "-s", str(lua))
            )
        after = cpu_ms(pid)
    print("load average after:  {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    setup = re.search(r"process runner: (.*)", (folder / "tasks.log").read_text())
    print(f"tasks node: {setup.group(1) if setup else 'process runner (setup not logged)'}")
    bare, node, tasks = median(bare_runs), median(node_runs), median(task_runs)
    print(f"{'target':<44} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    print(row("bare Tornado GET /v1.1/_noop", bare))
    print(row("node GET /v1.1/_noop (auth on, access log)", node))
    print(row("node POST /v1.1/tasks (echo hello world)", tasks))
    ratio = node.requests_per_s / bare.requests_per_s
    verdict = "met" if ratio >= 0.7 else "NOT met"
    print(f"_noop node/bare requests/s ratio: {ratio:.2f} (aim >= 0.70: {verdict})")
    verdict = "met" if tasks.p50_ms < 10 else "NOT met"
    each = ", ".join(f"{run.p50_ms:.1f}" for run in task_runs)
    print(
        f"Tasks-Happy-Path at 10 clients: p50 {tasks.p50_ms:.2f} ms (rounds: {each}), "
        f"p99 {tasks.p99_ms:.2f} ms (aim p50 < 10 ms: {verdict})"
    )
    node_cpu, task_cpu = ((b - a) / tasks.requests for a, b in zip(before, after, strict=True))
    print(
        f"CPU per task: node {node_cpu:.2f} ms (its event loop serves every task), "
        f"task processes {task_cpu:.2f} ms"
    )
    bad = bare.bad_answers + node.bad_answers + tasks.bad_answers
    if bad:
        print(f"bench_node: {bad} answers were not 2xx; the figures are not valid", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--duration", type=int, default=5, choices=range(1, 61), metavar="S",
        help="seconds per wrk run, 1..60 (default 5)")  # fmt: skip
    add("--rounds", type=int, default=3, choices=range(1, 11), metavar="N",
        help="alternating bare/node runs, 1..10 (default 3)")  # fmt: skip
    add("--serve-bare", metavar="READY_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return 0
    if not shutil.which("wrk"):
        print("bench_node: wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-node-") as folder:
        return bench(Path(folder), args.duration, args.rounds)


if __name__ == "__main__":
    sys.exit(main())
