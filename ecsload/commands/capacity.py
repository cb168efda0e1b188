"""The capacity search's next step: judge the step that just ran, then decide the next one.

    python -m ecsload.commands.capacity next RUN_DIR

run_load_test.sh capacity asks after every step (and once before the first). The
step that ran (capacity.json's `pending`) is judged from its own summary.json
(ecsload.analysis.capacity.judge_step) and kept in capacity.json with its figures;
one line on stderr says how it went. Then ecsload.analysis.search decides: the next
step, printed as one line for bash to `read`, RATE SECONDS REPEAT INDEX AT_MOST:

    200 5 1 3 10

(REPEAT: the step's folder level-RATE/repeat-REPEAT, its REPEAT-th step at that rate;
INDEX: its number; AT_MOST: how many steps the search takes at most), or, when the
search has its answer, an empty line and the answer in capacity.json. The level server
runs it (commands/level_server.py): its imports are the level's.
Exit codes: 0, 2 usage, 4 a step without a summary or a file that cannot be written.
"""

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ecsload.analysis import search
from ecsload.analysis.capacity import answer_text, decided_beside_text, judge_step
from ecsload.cli import OneLineParser, UserError, run
from ecsload.commands.summarize import summarize_level
from ecsload.exits import EXIT_LOCUST, EXIT_USAGE
from ecsload.report.summary_files import saved, summary_of
from ecsload.run_folder import (
    DocumentError,
    PlanDocument,
    RunFolder,
    SearchDocument,
    read_plan,
    read_search,
    write_search,
)

PROG = "python -m ecsload.commands.capacity"
STEP_KEYS = ("rate", "seconds", "phase", "held", "limit", "marginal", "why", "few")


def parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog=PROG, description=__doc__.splitlines()[0])
    p.add_argument("command", choices=["next"])
    p.add_argument("folder", metavar="RUN_DIR", type=Path)
    return p


def settings_of(plan: PlanDocument) -> search.Settings:
    return search.settings_for(
        plan["min_rate"],
        plan["max_rate"],
        plan["resolution"],
        float(plan.get("level_seconds") or 0),
        plan["slo"],
        float(plan.get("probe_rate") or 0),
    )


def step_of(record: Mapping[str, Any]) -> search.Step:
    return search.Step(**{key: record[key] for key in STEP_KEYS})


def judged(
    run: RunFolder, pending: Mapping[str, Any], slo: Sequence[str], probe_rate: float
) -> dict[str, Any]:
    """The pending step's record, judged from its own summary.json."""
    folder = run.level(pending["rate"]).repeat(pending["repeat"])
    if not folder.summary.is_file():
        raise UserError(
            f"the search step at {pending['rate']} req/s has no summary: see {folder.output}",
            EXIT_LOCUST,
        )
    [level] = summary_of(folder.summary)["levels"]
    verdict = judge_step(level, slo)
    # The rate's column in the run's table is its result, this step (the latest outranks
    # the ones before it), not its steps pooled: a held bisect step and a confirmation
    # that broke made a column that looked held. Not printed: the step's line was.
    summarize_level(
        run.level(pending["rate"]), level["users"], 0, probe_rate, show=False, repeats=[folder]
    )
    return {
        **pending,
        "held": verdict.held,
        "limit": verdict.limit,
        "marginal": verdict.marginal,
        "why": verdict.why,
        "few": any(check.get("few") for check in verdict.figures["slo"]),
        "figures": verdict.figures,
    }


def step_line(record: Mapping[str, Any], index: int) -> str:
    """`Step 3 (grow) 200 req/s for 5 s: held: p99 at 200 req/s 12 ms [10, 15]`."""
    outcome = "held" if record["held"] else f"broke ({record['limit']})"
    beside = record["figures"].get("other_sweeps")
    return (
        f"Step {index} ({record['phase']}) {record['rate']} req/s for {record['seconds']:g} s: "
        f"{outcome}: {record['why']}"
        + (
            f" (another ecs-load sweep ran beside it: pid {', '.join(map(str, beside))})"
            if beside
            else ""
        )
    )


def answer_document(
    answer: search.Answer, plan: PlanDocument, steps: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """summary.json's `capacity` of a search (docs/capacity.md)."""
    slo = plan["slo"]
    return {
        "rate": answer.rate,
        "interval": list(answer.interval),
        "limited_by": answer.limited_by,
        "slo": slo,
        "confirmed": answer.confirmed,
        "stopped": answer.stopped,
        "resolution_percent": plan["resolution"],
        "min_rate": plan["min_rate"],
        "max_rate": plan["max_rate"],
        "steps": list(steps),
        "text": answer_text(answer, slo, plan["max_rate"], plan["min_rate"])
        + beside_text(answer, steps),
    }


def beside_text(answer: search.Answer, steps: Sequence[Mapping[str, Any]]) -> str:
    """The answer's caveat when another sweep ran on this machine during some of its steps:
    strong when it ran at a rate that decides the answer (the latest step at either end of
    its interval), else only how many steps it shared."""
    shared = [step for step in steps if step["figures"].get("other_sweeps")]
    if not shared:
        return ""
    latest = {step["rate"]: step for step in steps}
    deciding = sorted({rate for rate in answer.interval if rate is not None and rate in latest})
    beside = [rate for rate in deciding if latest[rate]["figures"].get("other_sweeps")]
    if beside:
        return decided_beside_text(beside)
    return (
        f"; another ecs-load sweep ran on this machine during {len(shared)} of its "
        f"{len(steps)} steps, none at the rates that decide the answer "
        f"({' and '.join(map(str, deciding))} req/s)"
    )


def next_step(run: RunFolder) -> str:
    """Judge the step that ran, decide, and say what bash runs next."""
    try:
        plan = read_plan(run.plan)
        state: SearchDocument = read_search(run.search) if run.search.exists() else {}
    except DocumentError as error:
        raise UserError(str(error), EXIT_LOCUST) from None
    if not plan.get("search"):
        raise UserError(f"{run.path} is not a capacity search's run folder", EXIT_USAGE)
    steps = list(state.get("steps") or [])
    pending = state.get("pending")
    if pending:
        steps.append(judged(run, pending, plan["slo"], plan.get("probe_rate") or 0))
        sys.stderr.write(step_line(steps[-1], len(steps)) + "\n")
    settings = settings_of(plan)
    decision = search.decide([step_of(step) for step in steps], settings)
    if isinstance(decision, search.Answer):
        document: SearchDocument = {
            "steps": steps,
            "pending": None,
            "answer": answer_document(decision, plan, steps),
        }
        saved(lambda: write_search(run.search, document))
        return "\n"
    repeat = 1 + sum(step["rate"] == decision.rate for step in steps)
    step = {**asdict(decision), "repeat": repeat}
    saved(lambda: write_search(run.search, {"steps": steps, "pending": step, "answer": None}))
    at_most = max(len(steps) + 1, search.worst_case_steps(settings))
    return f"{decision.rate} {decision.seconds:g} {repeat} {len(steps) + 1} {at_most}\n"


def main(argv: Sequence[str] | None = None) -> int:
    options = parser().parse_args(argv)
    if not options.folder.is_dir():
        raise UserError(f"{options.folder} is not a folder", EXIT_USAGE)
    sys.stdout.write(next_step(RunFolder(options.folder)))
    return 0


if __name__ == "__main__":
    run(main, PROG)
