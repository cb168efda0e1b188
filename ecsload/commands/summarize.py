"""Summarise a level, or a run's levels: print the table, write summary.txt and summary.json.

    python -m ecsload.commands.summarize level LEVEL_DIR [--concurrency N] [--locust-exit CODE]
    python -m ecsload.commands.summarize run RUN_DIR

`level` reads LEVEL_DIR/samples.csv and level.json (what the locustfile wrote)
and probe.csv (the probe's), or, when Locust failed, says why from its log;
`run` reads each RUN_DIR/level-*/summary.json and says where the service saturates
(ecsload.report.saturation) or, for arrival-rate levels, its capacity
(ecsload.report.capacity). Exit codes: 0 done, 1 usage,
4 a level recorded no samples (or no level has a summary).
"""

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ecsload.cli import OneLineParser, UserError, run
from ecsload.commands.locust_failure import locust_failure
from ecsload.exits import EXIT_LOCUST, EXIT_USAGE
from ecsload.report.capacity import capacity
from ecsload.report.documents import level_summary, run_summary
from ecsload.report.samples import SampleFileError, read_probe, read_samples
from ecsload.report.saturation import saturation
from ecsload.report.tables import level_table, run_table
from ecsload.values import option_type, parse_count

PROG = "python -m ecsload.commands.summarize"


def parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog=PROG, description=__doc__.splitlines()[0])
    commands = p.add_subparsers(dest="command", required=True)
    level = commands.add_parser("level", help="summarise one level's samples")
    level.add_argument("folder", metavar="LEVEL_DIR", type=Path)
    level.add_argument(
        "--concurrency",
        type=option_type(parse_count),
        metavar="N",
        help="the level's users (default: from LEVEL_DIR/level.json)",
    )
    level.add_argument(
        "--locust-exit",
        type=int,
        default=0,
        metavar="CODE",
        help="the level's Locust exit code: not 0 means it failed; say why (exit 4)",
    )
    level.add_argument(
        "--probe-rate",
        type=float,
        metavar="R",
        help="the probe's requests per second, for the table (LEVEL_DIR/probe.csv)",
    )
    run_ = commands.add_parser("run", help="summarise a run across its levels")
    run_.add_argument("folder", metavar="RUN_DIR", type=Path)
    return p


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object that the harness wrote; {} when the file is missing."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise UserError(f"{path} cannot be read: {error}", EXIT_LOCUST) from None


def publish(folder: Path, text: str, document: dict[str, Any]) -> None:
    """Print the table and save it with its JSON document in `folder`."""
    for name, content in (("summary.txt", text), ("summary.json", json.dumps(document, indent=2))):
        try:
            (folder / name).write_text(content + "\n", encoding="utf-8")
        except OSError as error:
            raise UserError(
                f"cannot write {folder / name}: {error.strerror}", EXIT_LOCUST
            ) from None
    print(text, flush=True)


def summarize_level(
    folder: Path, concurrency: int | None, locust_exit: int, probe_rate: float | None
) -> None:
    info = read_json(folder / "level.json")
    concurrency = concurrency or info.get("users")
    if not concurrency:
        raise UserError(f"give --concurrency: {folder}/level.json does not say", EXIT_USAGE)
    if locust_exit:
        raise UserError(locust_failure(folder, concurrency, locust_exit), EXIT_LOCUST)
    try:
        samples = read_samples(folder / "samples.csv")
    except SampleFileError as error:
        raise UserError(
            f"the level at {concurrency} users recorded no samples: {error}", EXIT_LOCUST
        ) from None
    if not len(samples):
        raise UserError(
            f"the level at {concurrency} users recorded no samples: see "
            f"{folder}/output.txt and {folder}/locust.log",
            EXIT_LOCUST,
        )
    probe = read_probe(folder / "probe.csv") if (folder / "probe.csv").exists() else None
    level = level_summary(samples, concurrency, info, probe, probe_rate)
    publish(folder, level_table(level), run_summary(info.get("host"), [level]))


def run_document(folder: Path) -> dict[str, Any]:
    """The run's summary document from each level's summary.json, in concurrency order."""
    documents = [read_json(path) for path in sorted(folder.glob("level-*/summary.json"))]
    if not documents:
        raise UserError(f"no level of {folder} has a summary (level-*/summary.json)", EXIT_LOCUST)
    endpoint = next((doc["endpoint"] for doc in documents if doc["endpoint"]), None)
    summary = run_summary(endpoint, [level for doc in documents for level in doc["levels"]])
    if any(level.get("model") == "open" for level in summary["levels"]):
        thresholds = read_json(folder / "plan.json").get("thresholds") or []
        summary["capacity"] = capacity(summary["levels"], thresholds)
    else:
        summary["saturation"] = saturation(summary["levels"])
    return summary


def summarize_run(folder: Path) -> None:
    summary = run_document(folder)
    publish(folder, run_table(summary), summary)


def main(argv: Sequence[str] | None = None) -> int:
    options = parser().parse_args(argv)
    if not options.folder.is_dir():
        raise UserError(f"{options.folder} is not a folder", EXIT_USAGE)
    if options.command == "level":
        summarize_level(
            options.folder, options.concurrency, options.locust_exit, options.probe_rate
        )
    else:
        summarize_run(options.folder)
    return 0


if __name__ == "__main__":
    run(main, PROG)
