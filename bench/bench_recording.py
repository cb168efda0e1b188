"""What recording one sample per request costs: one Locust level with and without it (aim: <= 5%).

    .venv/bin/python -m bench.bench_recording [--requests N] [--users U] [--rounds R]

Runs the real locustfile headless against a real ECS node over loopback, R
times with --samples-file and R times without, alternating, N requests each.
The figure that counts is the Locust process's CPU time per measured request
(level.json: its CPU share while measuring times the measured phase's seconds, over
the N requests): it does not depend on how fast the server answers, as
requests/s (printed too) does. Other work on the machine inflates CPU time too,
so both the median and the best run of each variant are compared, next to the
spread of the runs without recording. Also timed: the recorder alone, fed
200,000 request events, and each request's traceparent (made whether or not
samples are recorded), as shares of a request's CPU.
"""

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ecsload.plugin.recorder import SampleFile, SampleRecorder
from ecsload.plugin.tracing import new_trace
from ecsload.run_folder import LevelFolder, LevelInfo, read_level_info
from tests.ecsload_support import locust_args, node_running, run_command


def run_level(
    url: str, credentials: Path, folder: Path, record: bool, requests: int, users: int
) -> LevelInfo:
    folder.mkdir()
    args = locust_args(
        url,
        folder,
        "-u",
        str(users),
        "-r",
        "1000",
        "--run-time",
        "120s",
        "--stop-after-requests",
        str(requests),
        "--ecs-credentials",
        str(credentials),
    )
    if not record:
        at = args.index("--samples-file")
        del args[at : at + 2]
    result = run_command(args, timeout=180)
    if result.returncode != 0:
        raise SystemExit(f"locust failed: {result.stderr[-2000:]}")
    info = read_level_info(LevelFolder(folder).info)
    if info["stopped_by"] != "requests":
        raise SystemExit(f"the level did not finish its {requests} requests: {info}")
    return info


def recorder_alone(events: int = 200_000) -> float:
    """µs per request event for the recorder and its file, without Locust around it."""
    with tempfile.TemporaryDirectory() as folder:
        samples = SampleFile(Path(folder) / "samples.csv")
        recorder = SampleRecorder(samples.write)
        event: dict[str, Any] = {
            "request_type": "POST",
            "name": "Tasks-Happy-Path",
            "response_time": 1.234,
            "response_length": 60,
            "response": SimpleNamespace(status_code=201),
            "context": {
                "user_id": 7,
                "phase": "measure",
                "late_ms": 0.012,
                "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
            },
            "exception": None,
            "start_time": time.time(),
            "url": "http://127.0.0.1/v1.1/tasks",
        }
        started = time.perf_counter()
        for _ in range(events):
            recorder.on_request(**event)
        recorder.flush()
        elapsed = time.perf_counter() - started
        samples.close()
    return elapsed / events * 1e6


def traceparent_alone(requests: int = 200_000) -> float:
    """µs per request for its traceparent: the ids, the header, the headers' copy."""
    headers = {"Authorization": "Basic a2V5OnNlY3JldA==", "Content-Type": "application/json"}
    started = time.perf_counter()
    for _ in range(requests):
        _, traceparent = new_trace(0.01)
        _ = {**headers, "traceparent": traceparent}
    return (time.perf_counter() - started) / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=8)
    options = parser.parse_args()
    runs: dict[bool, list[LevelInfo]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp, node_running(Path(tmp)) as node:
        run_level(node.url, node.credentials, Path(tmp) / "warm-up", True, 2000, options.users)
        for round_ in range(options.rounds):
            order = (False, True) if round_ % 2 == 0 else (True, False)
            for record in order:
                folder = Path(tmp) / f"round-{round_}-{'with' if record else 'without'}"
                runs[record].append(
                    run_level(
                        node.url, node.credentials, folder, record, options.requests, options.users
                    )
                )

    def measured_seconds(info: Mapping[str, Any]) -> float:
        return info["seconds"] - info["ramp"]["seconds"]

    def cpu_us(info: Mapping[str, Any]) -> float:
        cpu = info["generator"]["cpu_percent"][0] / 100 * measured_seconds(info)
        return cpu / info["target_requests"] * 1e6

    def rps(info: Mapping[str, Any]) -> float:
        return info["target_requests"] / measured_seconds(info)

    print(
        f"{options.rounds} rounds of {options.requests:,} requests at {options.users} users "
        "against a real ECS node over loopback (each run's figures in brackets)"
    )
    for record in (False, True):
        label = "with recording   " if record else "without recording"
        cpus = sorted(cpu_us(i) for i in runs[record])
        rates = [rps(i) for i in runs[record]]
        print(
            f"  {label}  CPU/request median {statistics.median(cpus):6.1f} µs, best "
            f"{cpus[0]:6.1f} µs [{', '.join(f'{c:.0f}' for c in cpus)}]; requests/s median "
            f"{statistics.median(rates):5.0f} [{', '.join(f'{r:.0f}' for r in rates)}]"
        )

    def overhead(pick: Callable[[list[float]], float]) -> float:
        return 100 * (
            pick([cpu_us(i) for i in runs[True]]) / pick([cpu_us(i) for i in runs[False]]) - 1
        )

    quartiles = statistics.quantiles([cpu_us(i) for i in runs[False]], n=4)
    spread = 100 * (quartiles[2] - quartiles[0]) / quartiles[1]
    print(
        f"  recording overhead in CPU per request (aim: <= 5%): "
        f"{overhead(statistics.median):+.1f}% (medians), {overhead(min):+.1f}% (best runs); "
        f"for scale, the runs without recording spread {spread:.1f}% (interquartile range)"
    )
    alone = recorder_alone()
    without = statistics.median(cpu_us(i) for i in runs[False])
    print(
        f"  the recorder alone: {alone:.2f} µs per request event, "
        f"{100 * alone / without:.1f}% of a request's median CPU without recording"
    )
    tracing = traceparent_alone()
    print(
        f"  each request's traceparent alone: {tracing:.2f} µs, "
        f"{100 * tracing / without:.1f}% of a request's median CPU without recording"
    )


if __name__ == "__main__":
    main()
