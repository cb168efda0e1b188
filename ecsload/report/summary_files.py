"""The summaries and level.json as files of the run folder, for the commands.

Reading and writing go through ecsload.run_folder; here a document that cannot
be read or written becomes the command's one line and exit 4 (ecsload.exits), and
the run's summary is built from its levels'.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ecsload.analysis.capacity import capacity
from ecsload.analysis.documents import run_summary
from ecsload.analysis.saturation import saturation
from ecsload.cli import UserError
from ecsload.exits import EXIT_LOCUST
from ecsload.run_folder import (
    DocumentError,
    LevelInfo,
    RunFolder,
    SummaryDocument,
    WriteError,
    read_level_info,
    read_plan,
    read_search,
    read_summary,
    write_summary,
    write_text,
)


def level_info(path: Path) -> LevelInfo:
    """level.json; empty when Locust failed before it wrote one."""
    try:
        return read_level_info(path)
    except DocumentError as error:
        if error.missing:
            return {}
        raise UserError(str(error), EXIT_LOCUST) from None


def summary_of(path: Path) -> SummaryDocument:
    """A summary.json this run wrote (a UserError, exit 4, when it cannot be read)."""
    try:
        return read_summary(path)
    except DocumentError as error:
        raise UserError(str(error), EXIT_LOCUST) from None


def saved(write: Callable[[], None]) -> None:
    """Run a write: a file that cannot be written (a full disk) is one line and exit 4."""
    try:
        write()
    except WriteError as error:
        raise UserError(str(error), EXIT_LOCUST) from None


def publish(
    text_path: Path,
    json_path: Path,
    text: str,
    document: SummaryDocument,
    show: bool = True,
    shown: str | None = None,
) -> None:
    """Save the table with its JSON document and print it (unless not `show`), or `shown`
    in its place (the terminal's short form: every figure stays in the files)."""
    saved(lambda: write_text(text_path, text + "\n"))
    saved(lambda: write_summary(json_path, document))
    if show:
        print(text if shown is None else shown, flush=True)


def run_document(folder: Path) -> SummaryDocument:
    """The run's summary document from each level's summary.json, in concurrency order."""
    documents = [summary_of(path) for path in RunFolder(folder).level_summaries()]
    if not documents:
        raise UserError(f"no level of {folder} has a summary (level-*/summary.json)", EXIT_LOCUST)
    endpoint = next((doc["endpoint"] for doc in documents if doc["endpoint"]), None)
    summary = run_summary(endpoint, [level for doc in documents for level in doc["levels"]])
    run = RunFolder(folder)
    if run.search.exists():
        summary["capacity"] = search_answer(run)
    elif any(level.get("model") == "open" for level in summary["levels"]):
        summary["capacity"] = capacity(summary["levels"], plan_thresholds(run))
    else:
        summary["saturation"] = saturation(summary["levels"])
    return summary


def search_answer(run: RunFolder) -> dict[str, Any]:
    """A capacity search's answer (capacity.json); a search stopped before its answer has
    none (`rate` null), with the steps it measured."""
    try:
        state = read_search(run.search)
    except DocumentError as error:
        raise UserError(str(error), EXIT_LOCUST) from None
    steps = state.get("steps") or []
    return state.get("answer") or {
        "rate": None,
        "interval": None,
        "limited_by": None,
        "steps": steps,
        "text": f"Capacity: no answer: the search stopped after {len(steps)} step(s)",
    }


def plan_thresholds(run: RunFolder) -> list[str]:
    """The run's thresholds from its plan.json; none when it has no plan.json."""
    try:
        return read_plan(run.plan).get("thresholds") or []
    except DocumentError as error:
        if error.missing:
            return []
        raise UserError(str(error), EXIT_LOCUST) from None
