"""What New Relic's agent adds to the local node's latency: one short sweep with and without it.

    .venv/bin/python -m bench.bench_newrelic [--rounds 2] [--requests 3000] [--users 20]

Runs run_load_test.sh against its local node, alternating a plain node and one
under the agent (developer_mode: instrumented, reporting nowhere), and prints
requests/s and p50/p95 per request type for both, with the ratio agent / plain.
Runs on this machine vary by up to ±30%, so the two are interleaved in one run.
"""

import argparse
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from tabulate import tabulate

from ecsload.run_folder import RunFolder, read_summary

ROOT = Path(__file__).resolve().parent.parent
TYPES = ("NoOp", "Version", "Health-Check-Quick", "Tasks-Happy-Path", "Tasks-Bad-Request-Body")


def developer_mode_config(folder: Path) -> Path:
    """The project's newrelic.ini, in developer_mode, logging to a file in `folder`."""
    text = (ROOT / "newrelic.ini").read_text()
    text = text.replace("[newrelic]\n", "[newrelic]\ndeveloper_mode = true\n", 1)
    text = text.replace("log_file = stdout", f"log_file = {folder / 'agent.log'}", 1)
    ini = folder / "newrelic.ini"
    ini.write_text(text)
    return ini


def sweep(folder: Path, users: int, requests: int, agent: Path | None) -> dict:
    """One level through the real script; its level of summary.json."""
    results = folder / ("agent" if agent else "plain")
    args = [
        str(ROOT / "run_load_test.sh"),
        "-c",
        str(users),
        "-n",
        str(requests),
        "-r",
        "1000",
        "-o",
        str(results),
    ]
    if agent:
        args += ["--newrelic", str(agent)]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, timeout=600)
    newest = max(results.iterdir())
    return read_summary(RunFolder(newest).summary)["levels"][0]


def dig(level: Any, path: tuple[str, ...]) -> float:
    """The figure at `path` in one level of summary.json."""
    for key in path:
        level = level[key]
    return float(level)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--users", type=int, default=20)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-newrelic-") as tmp:
        folder = Path(tmp)
        ini = developer_mode_config(folder)
        runs: dict[str, list[dict]] = {"plain": [], "agent": []}
        for _ in range(options.rounds):
            runs["plain"].append(sweep(folder, options.users, options.requests, None))
            runs["agent"].append(sweep(folder, options.users, options.requests, ini))

    figures: list[tuple[str, tuple[str, ...]]] = [("requests/s", ("rps",))]
    figures += [
        (f"{name} {stat} ms", ("types", name, stat)) for name in TYPES for stat in ("p50", "p95")
    ]
    rows = []
    for label, path in figures:
        plain, agent = (
            statistics.median(dig(level, path) for level in runs[kind])
            for kind in ("plain", "agent")
        )
        rows.append([label, plain, agent, agent / plain if plain else float("nan")])
    print(
        f"{options.rounds} round(s) of {options.requests} requests at {options.users} users, "
        "medians over rounds:"
    )
    print(
        tabulate(rows, headers=["", "plain node", "under agent", "agent / plain"], floatfmt=".2f")
    )


if __name__ == "__main__":
    main()
