"""The probe against wrk: does it show the service's own latency while the generator is saturated?

    .venv/bin/python -m bench.bench_probe [--rounds 3] [--requests 40000] [--users 20]

One target for everything: nginx on 127.0.0.1 with Basic auth and static ECS
answers (tests/nginx_support.py; far faster than the generator). Each round, in
turn: wrk at one connection for 5 s (its p50 is the service's own latency), then
one harness level of the default traffic model (run_load_test.sh, 20 users, the
probe at its default 2/s), which saturates its one Locust process. Printed per
round and as medians: wrk's p50, the level's req/s and generator CPU, the probe's
p50 and the model's NoOp p50. Aim: the probe's p50 within 0.5 ms of wrk's.
Needs Debian's nginx and wrk.
"""

import argparse
import base64
import json
import os
import re
import statistics
import subprocess
import tempfile
from pathlib import Path

from tabulate import tabulate

from tests.e2e_support import ROOT, clean_env, only_run_dir
from tests.nginx_support import Nginx, nginx_ecs, nginx_missing

WRK_SECONDS = 5
AIM_MS = 0.5


def wrk_p50_ms(server: Nginx) -> float:
    """wrk's median latency at one connection, in ms."""
    assert server.credentials is not None
    pair = server.credentials.read_text().split()[0]
    header = "Authorization: Basic " + base64.b64encode(pair.encode()).decode()
    result = subprocess.run(
        [
            "wrk",
            "-t1",
            "-c1",
            f"-d{WRK_SECONDS}s",
            "--latency",
            "-H",
            header,
            f"{server.url}/v1.1/_noop",
        ],
        capture_output=True,
        text=True,
        timeout=WRK_SECONDS + 30,
        check=True,
    )
    found = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)$", result.stdout, flags=re.MULTILINE)
    if not found:
        raise SystemExit(f"wrk printed no median: {result.stdout}")
    return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]


def harness_level(server: Nginx, folder: Path, users: int, requests: int) -> dict:
    """One level through the real script; its level of summary.json."""
    env = clean_env(ECS_ENDPOINT=server.url, ECS_CREDENTIALS=str(server.credentials))
    args = ["-c", str(users), "-n", str(requests), "-r", "1000", "-t", "300", "-o", str(folder)]
    result = subprocess.run(
        [str(ROOT / "run_load_test.sh"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode:
        raise SystemExit(f"the harness failed: {result.stderr}")
    return json.loads((only_run_dir(folder) / "summary.json").read_text())["levels"][0]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--requests", type=int, default=40_000)
    p.add_argument("--users", type=int, default=20)
    options = p.parse_args()
    if missing := nginx_missing():
        raise SystemExit(missing)
    rows = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        nginx_ecs(Path(tmp) / "nginx", access_log=False) as server,
    ):
        for round_ in range(1, options.rounds + 1):
            wrk = wrk_p50_ms(server)
            level = harness_level(
                server, Path(tmp) / f"round-{round_}", options.users, options.requests
            )
            probe = level["probe"]
            rows.append(
                [
                    round_,
                    wrk,
                    level["rps"],
                    level["generator"]["cpu_percent_max"],
                    probe["p50"],
                    probe["count"],
                    level["types"]["NoOp"]["p50"],
                    probe["p50"] - wrk,
                ]
            )
            print(
                f"round {round_}: wrk p50 {wrk:.3f} ms, probe p50 {probe['p50']:.3f} ms", flush=True
            )
    medians = ["median", *(statistics.median(row[i] for row in rows) for i in range(1, 8))]
    headers = [
        "round",
        "wrk p50 ms",
        "req/s",
        "generator CPU %",
        "probe p50 ms",
        "probe answers",
        "NoOp p50 ms",
        "probe - wrk ms",
    ]
    print(
        f"nginx on 127.0.0.1 (Basic auth, static answers); {options.users} users of the "
        f"default model, {options.requests} requests a level, probe at 2/s; "
        f"cores: {os.cpu_count()}"
    )
    print(tabulate([*rows, medians], headers=headers, floatfmt=".3f"))
    verdict = "met" if medians[7] <= AIM_MS else "NOT met"
    print(f"aim: probe p50 within {AIM_MS} ms of wrk's p50: {verdict} ({medians[7]:.3f} ms)")


if __name__ == "__main__":
    main()
