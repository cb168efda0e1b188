"""Stalls seen or hidden: closed and open levels against a stalling stand-in, and the open
model's ceiling against nginx, in one run.

    .venv/bin/python -m bench.bench_stalls [--seconds 20] [--users 20] [--rate 500]

1. tests/stall_server.py (answers in ~1 ms, frozen 1 s every 5 s, each stall
   logged) under run_load_test.sh: a closed level of --users users and an
   arrival-rate level of --rate requests/s, each about --seconds long. For both:
   the reported p50/p95/p99, the corrected ones (closed), the truth from the stall
   log (what a client arriving at a constant rate waited) and their ratio, and
   whether the stall WARNING was printed. Aims: open p99 within 15% of the truth,
   closed corrected p99 within 25%.
2. nginx (Debian's package): the highest constant rate one Locust process holds
   with its send lateness p99 under 1 ms (rates doubling from 500/s, --ladder-requests
   arrivals each), beside plain Locust FastHttpUser's closed req/s in the same run.

Everything runs on 127.0.0.1 and stops by itself. The machine's other work moves
the figures: compare only within one run.
"""

import argparse
import json
import os
import tempfile
from datetime import datetime
from pathlib import Path

from bench.bench_scale import nginx, plain_locust
from tests.e2e_support import clean_env, only_run_dir, run_script
from tests.nginx_support import free_port
from tests.stall_server import StallServer, stall_server, truth

LADDER = (500, 1000, 2000, 4000, 8000)


def level_of(results: Path, name: str) -> dict:
    return json.loads((only_run_dir(results) / name / "summary.json").read_text())["levels"][0]


def started(level: dict) -> float:
    return datetime.fromisoformat(level["started"].replace("Z", "+00:00")).timestamp()


def report(what: str, level: dict, server: StallServer, warned: bool) -> None:
    known = truth(
        server.stalls(), started(level), started(level) + level["seconds"], level["all"]["p50"]
    )
    print(
        f"  {what}: {level['requests']} requests in {level['seconds']:.1f} s, "
        f"stall WARNING printed: {'yes' if warned else 'NO'}"
    )
    corrected = level["all"].get("corrected") or {}
    for p in ("p50", "p95", "p99"):
        shown = level["all"][p]
        line = f"    {p}: reported {shown:8.1f} ms"
        if corrected:
            line += f", corrected {corrected[p]:8.1f} ms"
        line += f", truth {known[p]:8.1f} ms; reported/truth {shown / known[p]:6.2f}"
        if corrected:
            line += f", corrected/truth {corrected[p] / known[p]:5.2f}"
        print(line)


def stalls_part(folder: Path, seconds: int, users: int, rate: int) -> None:
    credentials = folder / "credentials.txt"
    credentials.write_text("key:secret\n")
    with stall_server(folder / "stalls", free_port()) as server:
        env = clean_env(ECS_ENDPOINT=server.url, ECS_CREDENTIALS=str(credentials))
        common = ("-q", "--probe-rate", "0")
        closed = run_script(
            *common,
            "-c",
            str(users),
            "-r",
            "1000",
            "-n",
            "100000000",
            "-t",
            str(seconds),
            "-o",
            str(folder / "closed"),
            env=env,
        )
        opened = run_script(
            *common,
            "--rates",
            str(rate),
            "-n",
            str(rate * seconds),
            "-t",
            str(seconds * 3),
            "-o",
            str(folder / "open"),
            env=env,
        )
        for result in (closed, opened):
            if result.returncode:
                raise SystemExit(result.stdout + result.stderr)
        print(f"stall stand-in (1 s every 5 s), {seconds} s per level")
        report(
            f"closed, {users} users",
            level_of(folder / "closed", f"level-{users}"),
            server,
            "WARNING: no answer for" in closed.stdout,
        )
        report(
            f"open, {rate}/s constant",
            level_of(folder / "open", f"level-{rate}"),
            server,
            "WARNING: no answer for" in opened.stdout,
        )


def ceiling_part(folder: Path, requests: int, seconds: int, users: int) -> None:
    with nginx(folder / "nginx") as url:
        fast = plain_locust(url, folder / "fast", "PlainFastHttpUser", seconds, users)
        rates = " ".join(map(str, LADDER))
        result = run_script(
            "-q",
            "--rates",
            rates,
            "-n",
            str(requests),
            "-t",
            "120",
            "--probe-rate",
            "0",
            "--no-credentials",
            "-o",
            str(folder / "ladder"),
            env=clean_env(ECS_ENDPOINT=url),
        )
        if result.returncode:
            raise SystemExit(result.stdout + result.stderr)
        print(f"nginx: plain Locust FastHttpUser, {users} users, closed: {fast:,.0f} requests/s")
        held = None
        for rate in LADDER:
            level = level_of(folder / "ladder", f"level-{rate}")
            late = level["lateness"]
            print(
                f"  {rate:>5}/s constant: achieved {level['rps']:8,.0f} requests/s, lateness "
                f"p50 {late['p50']:.3f} p99 {late['p99']:.3f} ms, dropped {level['dropped']}"
            )
            if not late["behind"] and not level["dropped"]:
                held = rate
        print(
            f"  one process holds {held or 'none'} requests/s with lateness p99 under 1 ms"
            + (f" ({held / fast:.2f}x plain FastHttpUser's closed req/s)" if held else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--ladder-requests", type=int, default=4000)
    options = parser.parse_args()
    print(f"{os.cpu_count()} cores; load and target share them")
    with tempfile.TemporaryDirectory() as tmp:
        stalls_part(Path(tmp), options.seconds, options.users, options.rate)
        ceiling_part(Path(tmp), options.ladder_requests, options.seconds, options.users)


if __name__ == "__main__":
    main()
