"""A run's verdict after its summary: thresholds, comparison with a baseline, the exit code.

    python -m ecsload.commands.verdict RUN_DIR [--short]

Reads the settings from RUN_DIR/plan.json and the figures from RUN_DIR/summary.json
(`summarize run` wrote it). With thresholds: prints their table and writes
thresholds.txt, junit.xml and `verdict` in summary.json. With a baseline: compares
this run's measured samples with the baseline's, prints the table and writes
comparison.txt and comparison.json. Exit codes: 0 nothing failed (or nothing to
judge), 6 a threshold failed, 7 the comparison said slower and fail_on_regression
is set (6 wins when both), 2 the baseline cannot be read any more, 4 no summary, or a
file that cannot be written (a full disk: each file is replaced whole, so the summary
stays as it was). With --short (what run_load_test.sh passes unless -v) it prints each
answer in a line or a few (ecsload.report.thresholds.thresholds_answer, the comparison's
title), not the tables, which are in the files.
"""

import argparse
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ecsload.cli import OneLineParser, UserError, run
from ecsload.exits import (
    EXIT_CONFIG,
    EXIT_LOCUST,
    EXIT_OK,
    EXIT_REGRESSION,
    EXIT_THRESHOLDS,
    EXIT_USAGE,
)
from ecsload.history.baseline import stored_baseline
from ecsload.history.store import HistoryError
from ecsload.history_location import (
    Reference,
    history_location,
    parse_reference,
    without_secret,
)
from ecsload.report.baseline import BaselineError, run_summary
from ecsload.report.comparison import pooled
from ecsload.report.comparison.reading import level_samples
from ecsload.report.comparison.statistics import (
    NOT_JUDGED,
    NOT_JUDGED_WHY,
    SLOWER,
    Rule,
    compare,
)
from ecsload.report.comparison.text import busy_generator_levels, comparison_table
from ecsload.report.junit import write_junit
from ecsload.report.summary_files import saved, summary_of
from ecsload.report.tables import headline
from ecsload.report.thresholds import (
    SEARCH_LEVEL,
    capacity_gates,
    check_thresholds,
    thresholds_answer,
    thresholds_table,
)
from ecsload.run_folder import (
    DocumentError,
    PlanDocument,
    RunFolder,
    SummaryDocument,
    read_plan,
    write_comparison,
    write_summary,
    write_text,
)

PROG = "python -m ecsload.commands.verdict"


def parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog=PROG, description=__doc__.splitlines()[0])
    p.add_argument("folder", metavar="RUN_DIR", type=Path)
    p.add_argument(
        "--short", action="store_true", help="print the answers in a line each, not the tables"
    )
    return p


SHORT = False  # --short: the answers, not the tables


def publish(path: Path, text: str, answer: str) -> None:
    """Save a table; print it, or with --short its `answer` in its place."""
    saved(lambda: write_text(path, text + "\n"))
    print(answer if SHORT else f"\n{text}", flush=True)


def judge_thresholds(run: RunFolder, thresholds: Sequence[str], summary: SummaryDocument) -> bool:
    """The thresholds' table, junit.xml and summary.json's `verdict`; True when all passed."""
    verdict = check_thresholds(thresholds, summary["levels"])
    summary["verdict"] = verdict
    saved(lambda: write_summary(run.summary, summary))
    saved(lambda: write_junit(run.junit, verdict, summary["levels"]))
    publish(run.thresholds_text, thresholds_table(verdict), thresholds_answer(verdict))
    return verdict["passed"]


def judge_capacity(run: RunFolder, gates: Sequence[str], summary: SummaryDocument) -> bool:
    """A capacity search's gates (`capacity>=R`) against its answer, as thresholds are."""
    verdict = capacity_gates(gates, summary.get("capacity") or {})
    summary["verdict"] = verdict
    saved(lambda: write_summary(run.summary, summary))
    started = {"users": SEARCH_LEVEL, "started": summary["levels"][0].get("started")}
    saved(lambda: write_junit(run.junit, verdict, [started]))
    publish(run.thresholds_text, thresholds_table(verdict), thresholds_answer(verdict))
    return verdict["passed"]


Judged = tuple[dict[str, Any], list[dict[str, Any]]]  # the comparison, the baseline's levels


def folder_baseline(plan: Mapping[str, Any], run: RunFolder) -> Judged:
    """An earlier run folder against this one (ecsload.report.comparison.statistics: each
    run's noise from its windows and repeats)."""
    baseline = Path(plan["baseline"])
    try:
        before = level_samples(baseline)
        levels = run_summary(baseline)["levels"]
    except BaselineError as error:
        raise UserError(f"baseline {baseline}: {error}", EXIT_CONFIG) from None
    try:
        now = level_samples(run.path)
    except BaselineError as error:  # its summary or samples changed since summarize read them
        raise UserError(f"{run.path} cannot be compared: {error}", EXIT_LOCUST) from None
    rule = Rule(plan["tolerance"], plan["run_noise"])
    return {"baseline": str(baseline), **compare(before, now, rule)}, levels


def history_baseline(plan: Mapping[str, Any], reference: Reference, run: RunFolder) -> Judged:
    """Stored runs' histograms against this run (ecsload.report.comparison.pooled: they have
    no time windows); with several runs, the run noise measured between them."""
    location = history_location(plan, os.environ)
    if not location:
        raise UserError(f"baseline {reference.text}: this run has no history", EXIT_CONFIG)
    try:
        stored = stored_baseline(location, plan.get("endpoint") or "", reference)
    except HistoryError as error:
        raise UserError(f"baseline {reference.text}: {error}", EXIT_CONFIG) from None
    noise = stored.run_noise_percent
    if noise is None:
        noise = plan["run_noise"] or pooled.ASSUMED_RUN_NOISE_PERCENT
    try:
        now = pooled.level_samples(run.path)
    except BaselineError as error:  # its summary or samples changed since summarize read them
        raise UserError(f"{run.path} cannot be compared: {error}", EXIT_LOCUST) from None
    rule = pooled.Rule(plan["tolerance"], noise)
    name = stored.description(without_secret(location))
    return {"baseline": name, **pooled.compare(stored.samples, now, rule)}, stored.levels


def judge_against_baseline(run: RunFolder, plan: PlanDocument, summary: SummaryDocument) -> str:
    """comparison.txt and comparison.json; the overall verdict (slower, faster or same)."""
    reference = parse_reference(plan.get("baseline") or "")
    if reference:
        comparison, baseline_levels = history_baseline(plan, reference, run)
        table = pooled.comparison_table
    else:
        comparison, baseline_levels = folder_baseline(plan, run)
        table = comparison_table
    name = comparison["baseline"]
    if not comparison["levels"]:
        raise UserError(
            f"baseline {name}: no level of this run could be compared with it (levels "
            f"only in the baseline: {comparison['levels_only_in_baseline']}, only in this "
            f"run: {comparison['levels_only_in_run']})",
            EXIT_CONFIG,
        )
    compared = {level["users"] for level in comparison["levels"]}
    comparison["generator_busy_levels"] = [
        users
        for users in busy_generator_levels(baseline_levels, summary["levels"])
        if users in compared
    ]
    saved(lambda: write_comparison(run.comparison, comparison))
    text = table(comparison)
    publish(run.comparison_text, text, f"{headline(text)} ({run.comparison_text.name})")
    if comparison["verdict"] == NOT_JUDGED and plan.get("fail_on_regression"):
        raise UserError(  # a gate that could not judge has not passed
            f"baseline {name}: no level could be judged ({comparison['levels'][0]['not_judged']}),"
            f" so --fail-on-regression cannot pass: {NOT_JUDGED_WHY}",
            EXIT_CONFIG,
        )
    return str(comparison["verdict"])


def plan_of(run: RunFolder) -> PlanDocument:
    try:
        return read_plan(run.plan)
    except DocumentError as error:
        if error.missing:
            raise UserError(f"{run.path} has no plan.json: give a run folder", EXIT_USAGE) from None
        raise UserError(str(error), EXIT_LOCUST) from None


def main(argv: Sequence[str] | None = None) -> int:
    global SHORT
    options = parser().parse_args(argv)
    SHORT = options.short
    run = RunFolder(options.folder)
    plan = plan_of(run)
    summary = summary_of(run.summary) if run.summary.exists() else None
    if not summary or not summary.get("levels"):
        raise UserError(f"{run.path} has no summary.json with levels to judge", EXIT_LOCUST)
    code = EXIT_OK
    thresholds = plan.get("thresholds")
    if thresholds and plan.get("search"):
        if not judge_capacity(run, thresholds, summary):
            code = EXIT_THRESHOLDS
    elif thresholds and not judge_thresholds(run, thresholds, summary):
        code = EXIT_THRESHOLDS
    if plan.get("baseline"):
        slower = judge_against_baseline(run, plan, summary) == SLOWER
        if slower and plan.get("fail_on_regression") and code == EXIT_OK:
            code = EXIT_REGRESSION
    return code


if __name__ == "__main__":
    run(main, PROG)
