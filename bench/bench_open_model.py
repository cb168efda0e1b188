"""The open model (`--rates`) beside httperf at the same arrival rates, in one run.

    .venv/bin/python -m bench.bench_open_model [--quick] [--rates "500 1000 …"] [--seconds S]
                                               [--json FILE]

One nginx stand-in on 127.0.0.1 (tests/nginx_support.py: `{SHA}` htpasswd, no access log,
far faster than any generator here). For each rate, one after the other on the same
cores: httperf (Debian's, C) at that rate, then run_load_test.sh `--rates R` with one
Locust process and with `--processes auto` (skipped where auto is one process), each
for S seconds of arrivals, no probe. Per driver and rate: the rate achieved, the sends'
lateness p50/p99, the latency p50/p99, the event loop's lag p50/p99 and the busiest
process's busy % (the harness's, from its summary.json), and httperf's own figures.

httperf prints no percentiles: its reply time (request sent to reply received, the
sum of its `response` and `transfer`) is a mean, to 0.1 ms, of one request per
connection (`--num-calls 1`: its open model); the harness keeps its connections
alive. Its `Connection time` max bounds its worst. The harness sends the traffic
model's mix (75% POST /tasks), httperf `GET /v1.1/_noop`: nginx answers each within
microseconds.

Other work on the machine moves every figure (by ±30% on these machines, more on a
shared one): compare only within one run. `--quick`: 1,000/s for 3 s, one process
(tests/test_e2e_open_model.py runs it).
"""

import argparse
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ecsload.model import auto_processes
from tests.nginx_support import Nginx, nginx_ecs, nginx_missing

ROOT = Path(__file__).resolve().parent.parent
RATES = (500, 1000, 2000, 4000, 8000)
QUICK_RATE = 1000
SECONDS = 5.0
QUICK_SECONDS = 3.0
HTTPERF_CONNECTIONS = 16_000  # at most per rate: each is a port in TIME_WAIT for a minute
NOOP = "/v1.1/_noop"


def machine() -> str:
    """The CPU model, its cores and the load average now."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{model}, {os.cpu_count()} cores; load average {load}"


def authorization(nginx: Nginx) -> str:
    assert nginx.credentials is not None
    pair = nginx.credentials.read_text().splitlines()[0]
    return "Basic " + base64.b64encode(pair.encode()).decode()


def httperf(nginx: Nginx, rate: float, seconds: float) -> dict[str, Any]:
    """httperf at `rate` for `seconds` (one request per connection): achieved, reply time."""
    port = nginx.url.rsplit(":", 1)[1]
    connections = min(HTTPERF_CONNECTIONS, round(rate * seconds))
    command = [
        *("httperf", "--hog", "--server", "127.0.0.1", "--port", port, "--uri", NOOP),
        *("--rate", f"{rate:g}", "--num-conns", str(connections), "--num-calls", "1"),
        *("--timeout", "5", "--add-header", f"Authorization: {authorization(nginx)}\\n"),
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds * 3 + 60, check=False
    )
    out = done.stdout
    reply = re.search(r"Reply time \[ms\]: response ([\d.]+) transfer ([\d.]+)", out)
    rate_line = re.search(r"Request rate: ([\d.]+) req/s", out)
    statuses = re.search(r"Reply status: 1xx=\d+ 2xx=(\d+)", out)
    errors = re.search(r"Errors: total (\d+)", out)
    worst = re.search(r"Connection time \[ms\]: min [\d.]+ avg [\d.]+ max ([\d.]+)", out)
    if done.returncode or not (reply and rate_line and statuses and errors and worst):
        raise SystemExit(f"httperf failed ({done.returncode}): {out}{done.stderr}")
    return {
        "achieved": float(rate_line.group(1)),
        "reply_ms": round(float(reply.group(1)) + float(reply.group(2)), 1),
        "connection_max_ms": float(worst.group(1)),
        "ok": int(statuses.group(1)),
        "errors": int(errors.group(1)),
        "requests": connections,
    }


def harness(
    nginx: Nginx, rate: float, seconds: float, processes: str, folder: Path
) -> dict[str, Any]:
    """run_load_test.sh --rates `rate` against the stand-in: its level's figures."""
    assert nginx.credentials is not None
    requests = round(rate * seconds)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ECS_", "NEW_RELIC_"))}
    env.update(ECS_ENDPOINT=nginx.url, ECS_CREDENTIALS=str(nginx.credentials))
    command = [
        *(str(ROOT / "run_load_test.sh"), "-q", "--rates", f"{rate:g}", "-n", str(requests)),
        *("--probe-rate", "0", "--processes", processes, "--no-history", "-o", str(folder)),
        *("-t", str(int(seconds * 4 + 60))),
    ]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=seconds * 4 + 240, check=False
    )
    if done.returncode:
        raise SystemExit(f"run_load_test.sh failed ({done.returncode}): {done.stderr[-3000:]}")
    [run] = [p for p in folder.iterdir() if p.is_dir()]
    [summary] = run.glob("level-*/summary.json")
    level = json.loads(summary.read_text())["levels"][0]
    late = level.get("lateness") or {}
    generator = level.get("generator") or {}
    lag = generator.get("loop_lag_ms") or {}
    return {
        "processes": generator.get("processes"),
        "achieved": late.get("achieved", level["rps"]),
        "late_p50_ms": late.get("p50"),
        "late_p99_ms": late.get("p99"),
        "p50_ms": level["all"].get("p50"),
        "p99_ms": level["all"].get("p99"),
        "lag_p50_ms": lag.get("p50"),
        "lag_p99_ms": lag.get("p99"),
        "busy_percent": generator.get("busy_percent_max"),
        "dropped": level.get("dropped") or 0,
        "errors": level["all"].get("error", 0),
        "requests": level["requests"],
    }


def compare(
    rates: Sequence[float], seconds: float, auto: bool, folder: Path
) -> list[dict[str, Any]]:
    """Each rate: httperf, the harness in one process and, where more, --processes auto."""
    rows = []
    with nginx_ecs(folder / "nginx", access_log=False) as nginx:
        for rate in rates:
            row: dict[str, Any] = {"rate": rate, "httperf": httperf(nginx, rate, seconds)}
            row["one"] = harness(nginx, rate, seconds, "1", folder / f"one-{rate:g}")
            # the rule of --processes auto for this machine's cores and a remote target
            if auto and auto_processes(rate, os.cpu_count() or 1, local_node=False) > 1:
                row["auto"] = harness(nginx, rate, seconds, "auto", folder / f"auto-{rate:g}")
            rows.append(row)
            print(line(row), flush=True)
    return rows


def figure(value: Any, form: str = ".2f") -> str:
    return "-" if value is None else format(value, form)


def harness_cells(name: str, h: dict[str, Any]) -> str:
    return (
        f"{name} ({h['processes']} proc.): {h['achieved']:,.0f}/s, late p50/p99 "
        f"{figure(h['late_p50_ms'], '.3f')}/{figure(h['late_p99_ms'])} ms, p50/p99 "
        f"{figure(h['p50_ms'])}/{figure(h['p99_ms'])} ms, lag p50/p99 "
        f"{figure(h['lag_p50_ms'], '.3f')}/{figure(h['lag_p99_ms'])} ms, busy "
        f"{figure(h['busy_percent'], '.0f')}%, dropped {h['dropped']}, errors {h['errors']}"
    )


def line(row: dict[str, Any]) -> str:
    h = row["httperf"]
    parts = [
        f"{row['rate']:,.0f}/s",
        f"  httperf: {h['achieved']:,.0f}/s, reply {h['reply_ms']:.1f} ms (mean), "
        f"connection max {h['connection_max_ms']:.1f} ms, errors {h['errors']}",
        "  " + harness_cells("harness", row["one"]),
    ]
    if "auto" in row:
        parts.append("  " + harness_cells("harness auto", row["auto"]))
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000/s for 3 s, one process")
    parser.add_argument("--rates", help='arrival rates, e.g. "500 1000 2000"')
    parser.add_argument("--seconds", type=float, help="of arrivals per driver and rate")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    options = parser.parse_args(argv)
    if missing := nginx_missing():
        raise SystemExit(missing)
    if not subprocess.run(["sh", "-c", "command -v httperf"], capture_output=True).stdout:
        raise SystemExit("httperf is not installed: apt-get install -y httperf")
    rates = [float(r) for r in options.rates.split()] if options.rates else None
    rates = rates or ([QUICK_RATE] if options.quick else list(RATES))
    seconds = options.seconds or (QUICK_SECONDS if options.quick else SECONDS)
    print(f"machine: {machine()}", flush=True)
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="bench-open-") as folder:
        rows = compare(rates, seconds, not options.quick, Path(folder))
    print(f"machine after: {machine()}; {time.time() - started:.0f} s")
    if options.json:
        options.json.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
