"""A run's verdict after its summary: thresholds, comparison with a baseline, the exit code.

    python -m ecsload.commands.verdict RUN_DIR [--short]

Reads the settings from RUN_DIR/plan.json and the figures from RUN_DIR/summary.json
(`summarize run` wrote it). With thresholds: prints their table and writes
thresholds.txt, junit.xml and `verdict` in summary.json. With a baseline (a folder or
the history: one rule, ecsload.analysis.comparison): compares this run's
measured samples with the baseline's, prints the table and writes comparison.txt and
comparison.json. Exit codes: 0 nothing failed (or nothing to judge: a change within what
a run measured once can tell from the drift is `not judged`, and comparison.txt says how
large a change it could have seen), 6 a threshold failed, 7 the comparison said slower
and fail_on_regression is set (6 wins when both), 2 the baseline cannot be read any
more or no level was compared, 4 no summary, or a
file that cannot be written (a full disk: each file is replaced whole, so the summary
stays as it was). With --short (what run_load_test.sh passes unless -v) it prints each
answer in a line or a few (ecsload.report.threshold_table.thresholds_answer, the comparison's
title), not the tables, which are in the files.
"""

import argparse
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ecsload.analysis.baseline import BaselineError, level_of, model_of, run_summary
from ecsload.analysis.comparison import DEFAULT_DRIFT, SLOWER, Rule, compare, level_samples
from ecsload.analysis.samples import Samples
from ecsload.analysis.thresholds import (
    SEARCH_LEVEL,
    capacity_gates,
    check_thresholds,
)
from ecsload.cli import OneLineParser, UserError, run
from ecsload.exits import (
    EXIT_LOCUST,
    EXIT_OK,
    EXIT_REGRESSION,
    EXIT_THRESHOLDS,
    EXIT_USAGE,
)
from ecsload.history.baseline import measured_drift, stored_baseline
from ecsload.history.store import HistoryError
from ecsload.history_location import (
    Reference,
    history_location,
    parse_reference,
    without_secret,
)
from ecsload.report.comparison_text import (
    busy_generator_levels,
    comparison_answer,
    comparison_table,
    shared_machine_levels,
)
from ecsload.report.junit import write_junit
from ecsload.report.summary_files import saved, summary_of
from ecsload.report.tables import headline
from ecsload.report.threshold_table import thresholds_answer, thresholds_table
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


Baseline = tuple[str, dict[int, Samples], list[dict[str, Any]]]  # its name, samples, levels


def folder_baseline(plan: Mapping[str, Any]) -> Baseline:
    """An earlier run folder: its levels' measured samples."""
    baseline = Path(plan["baseline"])
    try:
        return str(baseline), level_samples(baseline), run_summary(baseline)["levels"]
    except BaselineError as error:
        raise UserError(f"baseline {baseline}: {error}", EXIT_USAGE) from None


def history_baseline(location: str, plan: Mapping[str, Any], reference: Reference) -> Baseline:
    """Stored runs: their levels' samples decoded from their windows, pooled."""
    if not location:
        raise UserError(f"baseline {reference.text}: this run has no history", EXIT_USAGE)
    try:
        stored = stored_baseline(location, plan.get("endpoint") or "", reference)
    except (HistoryError, BaselineError) as error:
        shown = str(error).replace(location, without_secret(location))
        raise UserError(f"baseline {reference.text}: {shown}", EXIT_USAGE) from None
    return stored.description(without_secret(location)), stored.samples, stored.levels


def compared(plan: Mapping[str, Any], run: RunFolder, summary: SummaryDocument) -> dict[str, Any]:
    """This run against its baseline, whatever the source: one rule (ecsload.report.
    comparison.statistics), the drift floor measured in the history when it can be."""
    location = history_location(plan, os.environ) or ""
    reference = parse_reference(plan.get("baseline") or "")
    if reference:
        name, before, baseline_levels = history_baseline(location, plan, reference)
    else:
        name, before, baseline_levels = folder_baseline(plan)
    try:
        now = level_samples(run.path)
    except BaselineError as error:  # its summary or samples changed since summarize read them
        raise UserError(f"{run.path} cannot be compared: {error}", EXIT_LOCUST) from None
    model = model_of(summary["levels"])
    drift, source = DEFAULT_DRIFT, "the default drift (no history)"
    if location:
        drift, source = measured_drift(location, plan.get("endpoint") or "", model, DEFAULT_DRIFT)
    rule = Rule(plan["tolerance"], plan["run_noise"], drift, source)
    unit = "req/s" if model == "open" else "users"
    comparison = {"baseline": name, **compare(before, now, rule, unit)}
    compared_levels = {level["users"] for level in comparison["levels"]}
    runs = (
        [{**level, "users": level_of(level)} for level in baseline_levels],
        [{**level, "users": level_of(level)} for level in summary["levels"]],
    )
    busy, shared = busy_generator_levels(*runs), shared_machine_levels(*runs)
    comparison["generator_busy_levels"] = [key for key in busy if key in compared_levels]
    comparison["shared_machine_levels"] = [key for key in shared if key in compared_levels]
    return comparison


def judge_against_baseline(run: RunFolder, plan: PlanDocument, summary: SummaryDocument) -> str:
    """comparison.txt and comparison.json; the overall verdict (slower, faster, same or not
    judged: no change beyond what a run measured once could tell from the drift)."""
    comparison = compared(plan, run, summary)
    if not comparison["levels"]:
        raise UserError(
            f"baseline {comparison['baseline']}: no level of this run could be compared with "
            f"it (levels only in the baseline: {comparison['levels_only_in_baseline']}, only "
            f"in this run: {comparison['levels_only_in_run']})",
            EXIT_USAGE,
        )
    saved(lambda: write_comparison(run.comparison, comparison))
    text = comparison_table(comparison)
    answer = comparison_answer(comparison, headline(text), run.comparison_text.name)
    publish(run.comparison_text, text, answer)
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
