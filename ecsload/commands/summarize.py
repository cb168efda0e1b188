"""Summarise a level, or a run's levels: write summary.txt and summary.json, print the answer.

    python -m ecsload.commands.summarize level LEVEL_DIR [--concurrency N] [--locust-exit CODE]
                                         [--node-deployment FILE] [--short]
    python -m ecsload.commands.summarize run RUN_DIR [--short]
    python -m ecsload.commands.summarize partial RUN_DIR   (an interrupted run, as far as it went)

It prints the whole tables and notes that summary.txt holds or, with --short (what
run_load_test.sh passes unless -v), the terminal's short form: a level's one line,
the run's short table and its answer lines.

`level` reads LEVEL_DIR/samples.csv and level.json (what the locustfile wrote)
(with --repeat, those of each LEVEL_DIR/repeat-R/ together) and probe.csv (the
probe's), or, when Locust failed, says why from its log;
`run` reads each RUN_DIR/level-*/summary.json and says where the service saturates
(ecsload.analysis.saturation) or, for arrival-rate levels, its capacity
(ecsload.analysis.capacity). Exit codes: 0 done, 2 usage,
4 a level recorded no samples (or no level has a summary).
"""

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ecsload.analysis.documents import level_summary, run_summary
from ecsload.analysis.samples import SampleFileError, read_level, read_probe
from ecsload.cli import OneLineParser, UserError, run
from ecsload.exits import EXIT_LOCUST, EXIT_USAGE
from ecsload.node_files import deployment_rates
from ecsload.report.locust_failure import locust_failure
from ecsload.report.summary_files import level_info, publish, run_document
from ecsload.report.tables import level_line, level_table, run_table
from ecsload.run_folder import REPEAT_PREFIX, LevelFolder, RunFolder
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
        "--quiet",
        action="store_true",
        help="write the table to LEVEL_DIR/summary.txt without printing it",
    )
    level.add_argument(
        "--probe-rate",
        type=float,
        metavar="R",
        help="the probe's requests per second, for the table (LEVEL_DIR/probe.csv)",
    )
    level.add_argument(
        "--node-deployment",
        metavar="FILE",
        help="the deployment.json whose limits the local node applied (the rate limiter's "
        "likely cause, in the notes)",
    )
    run_ = commands.add_parser("run", help="summarise a run across its levels")
    run_.add_argument("folder", metavar="RUN_DIR", type=Path)
    partial = commands.add_parser("partial", help="summarise an interrupted run as far as it went")
    partial.add_argument("folder", metavar="RUN_DIR", type=Path)
    for command in (level, run_):
        command.add_argument(
            "--short",
            action="store_true",
            help="print the short form (a level's line; the short table), not summary.txt",
        )
    return p


def finished_repeats(folder: LevelFolder) -> list[LevelFolder]:
    """The level's repeats that were summarised (each repeat is as it ends): a repeat a
    Ctrl-C cut short has no summary, and no figure of it counts. The level itself when it
    ran once."""
    repeats = folder.repeats()
    if repeats == [folder]:
        return repeats
    return [part for part in repeats if part.summary.is_file()]


def merged_info(repeats: Sequence[LevelFolder]) -> dict[str, Any]:
    """level.json, or for a level run K times its repeats' level.json together: the first's
    settings, the sums of the counts, each repeat's `stopped_by` (and the worst of them)."""
    parts: list[dict[str, Any]] = [dict(level_info(part.info)) for part in repeats]
    if len(parts) == 1:
        return parts[0]
    merged = dict(parts[0])
    for key, combine in (("unanswered", sum), ("locust_requests", sum), ("connections", max)):
        known: list[Any] = [part[key] for part in parts if part.get(key) is not None]
        merged[key] = combine(known) if known else None  # connections: the most of a repeat
    merged["stopped_by_repeat"] = [part.get("stopped_by") for part in parts]
    worst = [reason for reason in ("other", "time") if reason in merged["stopped_by_repeat"]]
    merged["stopped_by"] = worst[0] if worst else parts[0].get("stopped_by")
    beside = [part["other_sweeps"] for part in parts if part.get("other_sweeps") is not None]
    if beside:  # each sweep once, whichever repeats it ran beside
        merged["other_sweeps"] = list(
            {entry["pid"]: entry for each in beside for entry in each}.values()
        )
    generators = [part["generator"] for part in parts if part.get("generator")]
    merged["generator"] = max(
        generators, key=lambda g: max(filter(None, g["cpu_percent"]), default=0), default=None
    )
    return merged


def read_probes(repeats: Sequence[LevelFolder]) -> np.ndarray | None:
    """The probe's rows of the level (of all its repeats); None without a probe."""
    paths = [part.probe for part in repeats]
    rows = [read_probe(path) for path in paths if path.exists()]
    return np.concatenate(rows) if rows else None


def node_limiter(deployment: str | None) -> dict[str, Any] | None:
    """summary.json's `rate_limiter`: the local node's limits from its deployment.json (what
    nginx's limit_req without burst does), or None when no limit of ours was in the way."""
    rates = deployment_rates(deployment) if deployment else {}
    return {"by": "local node", "deployment": deployment, "rates": rates} if rates else None


def summarize_level(
    folder: LevelFolder,
    concurrency: int | None,
    locust_exit: int,
    probe_rate: float | None,
    show: bool = True,
    node_deployment: str | None = None,
    short: bool = False,
    repeats: Sequence[LevelFolder] | None = None,
) -> None:
    """The level's summary.txt and summary.json, from `repeats` (its finished ones unless
    given: a capacity search gives a rate's result step alone)."""
    repeats = finished_repeats(folder) if repeats is None else repeats
    info = merged_info(repeats)
    concurrency = concurrency or info.get("users")
    if not concurrency:
        raise UserError(f"give --concurrency: {folder}/level.json does not say", EXIT_USAGE)
    rate = info.get("arrival_rate")
    named = f"{rate:g}/s" if rate else f"{concurrency} users"
    if locust_exit:
        raise UserError(locust_failure(folder, concurrency, locust_exit), EXIT_LOCUST)
    try:
        samples = read_level(folder.path, repeats)
    except SampleFileError as error:
        raise UserError(f"the level at {named} recorded no samples: {error}", EXIT_LOCUST) from None
    if not len(samples):
        raise UserError(
            f"the level at {named} recorded no samples: see "
            f"{folder.output} and {folder.locust_log}",
            EXIT_LOCUST,
        )
    probe = read_probes(repeats)
    level = level_summary(samples, concurrency, info, probe, probe_rate)
    repeat = folder.path.name.removeprefix(REPEAT_PREFIX)
    if repeat.isdigit():  # one repeat of a level run K times
        level["repeat"] = level["repeats"][0]["repeat"] = int(repeat)
    level["rate_limiter"] = node_limiter(node_deployment)
    summary = run_summary(info.get("host"), [level])
    shown = level_line(level, run_relative(folder.summary_text)) if short else None
    publish(folder.summary_text, folder.summary, level_table(level), summary, show, shown)


def summarize_partial(folder: Path) -> None:
    """An interrupted run (Ctrl-C, SIGTERM) as far as it went: each level of --repeat K
    from its finished repeats, then the run's summary marked interrupted, so that its
    report is written (and `report RUN` works on it). Nothing when no level finished."""
    run = RunFolder(folder)
    for level in run.levels():
        parts = level.repeats()
        if level.summary.is_file() or parts == [level]:
            continue
        finished = finished_repeats(level)
        if finished:
            summarize_level(level, None, 0, None)
    if run.level_summaries():
        summarize_run(folder, interrupted=True)


def run_relative(path: Path) -> str:
    """`level-10/summary.txt`: a level's file as named from its run folder (the one with
    plan.json); the whole path when there is none."""
    for folder in path.parents:
        if RunFolder(folder).plan.exists():
            return str(path.relative_to(folder))
    return str(path)


def summarize_run(folder: Path, interrupted: bool = False, short: bool = False) -> None:
    summary = run_document(folder)
    if interrupted:
        summary["interrupted"] = True
    run = RunFolder(folder)
    text = run_table(summary)
    if interrupted:
        text += (
            "\nNOTE: the run was interrupted: these are the levels (and repeats) that "
            "finished before it; the others were not measured."
        )
    shown = run_table(summary, full=False) if short else None
    if shown is not None and interrupted:
        shown += text.removeprefix(run_table(summary))
    publish(run.summary_text, run.summary, text, summary, shown=shown)
    for warning in metrics_warnings(run):
        print(warning, flush=True)


OUTPUTS = (("remote write", "remote_write"), ("OTLP", "otlp"))  # and their LevelFolder files


def metrics_warnings(run: RunFolder) -> list[str]:
    """One line per live-metrics output (--remote-write, --otlp) whose pushes failed, for
    the whole run, from each level's remote_write.json or otlp.json
    (ecsload.plugin.live_metrics); none when all went through."""
    warnings = []
    for name, file in OUTPUTS:
        deliveries = []
        for level in run.levels():
            for part in level.repeats():
                try:
                    deliveries.append(json.loads(getattr(part, file).read_text()))
                except (OSError, ValueError):
                    continue
        failed = [d for d in deliveries if d["failed"]]
        if not failed:
            continue
        pushes = sum(d["pushes"] for d in deliveries)
        lost = sum(d["failed"] for d in deliveries)
        finals = sum(not d["final_delivered"] for d in deliveries)
        warnings.append(
            f"WARNING: {name} to {failed[-1]['url']}: {lost} of {pushes} pushes failed "
            f"({failed[-1]['last_error']}); the receiver misses those points, and the final "
            f"figures of {finals} of {len(deliveries)} levels (the run's files are whole)"
        )
    return warnings


def main(argv: Sequence[str] | None = None) -> int:
    options = parser().parse_args(argv)
    if not options.folder.is_dir():
        raise UserError(f"{options.folder} is not a folder", EXIT_USAGE)
    if options.command == "level":
        summarize_level(
            LevelFolder(options.folder),
            options.concurrency,
            options.locust_exit,
            options.probe_rate,
            show=not options.quiet,
            node_deployment=options.node_deployment,
            short=options.short,
        )
    elif options.command == "partial":
        summarize_partial(options.folder)
    else:
        summarize_run(options.folder, short=options.short)
    return 0


if __name__ == "__main__":
    run(main, PROG)
