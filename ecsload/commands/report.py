"""Write a run's report.html (and, with --graphs, the same charts as a PDF).

    python -m ecsload.commands.report RUN_DIR [--graphs FILE.pdf]
    ./run_load_test.sh report RUN_DIR [--graphs FILE.pdf]

run_load_test.sh runs it after the sweep, and when a run ends early for the
levels that finished; run it by hand on an old run or one copied from CI. It
reads RUN_DIR/summary.json (or, when the run ended before it was written, each
level-*/summary.json), plan.json, thresholds.txt and comparison.txt where
present, and each level's samples.csv for its scatter. It writes
RUN_DIR/report.html, whole or not at all, and says where it is (nothing with -q).

Exit codes: 0 written; 2 usage (RUN_DIR is not a run folder, a bad --graphs), or a
file could not be written; 4 a summary.json that cannot be read.
"""

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from ecsload.cli import OneLineParser, UserError, run
from ecsload.exits import EXIT_LOCUST, EXIT_USAGE
from ecsload.report.summary_files import run_document, summary_of
from ecsload.report.text_files import TEXT_FILES
from ecsload.run_folder import (
    DocumentError,
    PlanDocument,
    RunFolder,
    SummaryDocument,
    WriteError,
    read_plan,
)
from ecsload.values import option_type, parse_pdf_path

PROG = "python -m ecsload.commands.report"


def parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog=os.environ.get("ECSLOAD_PROG", PROG), description=__doc__.splitlines()[0]
    )
    p.add_argument("folder", metavar="RUN_DIR", type=Path, help="a run's results folder")
    p.add_argument(
        "--graphs",
        metavar="FILE.pdf",
        type=option_type(parse_pdf_path),
        help="also write the charts as a PDF, one page per chart group",
    )
    p.add_argument(
        "-q", "--quiet", action="store_true", help="print nothing on success (the sweep's own)"
    )
    return p


def check_run_folder(folder: Path) -> None:
    """A UserError that says what to give when `folder` is not a run's folder."""
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder: give a run's results folder", EXIT_USAGE)
    run = RunFolder(folder)
    if run.level_summaries() or run.summary.is_file():
        return
    runs = sorted(path.parent for path in folder.glob(f"*/{run.plan.name}"))
    hint = f", such as {runs[-1]}" if runs else ""
    raise UserError(
        f"{folder} holds no level summary (level-*/summary.json): give a run's folder{hint}",
        EXIT_USAGE,
    )


def run_summary_of(folder: Path) -> SummaryDocument:
    """The run's summary.json, or, when the run ended before it was written, its levels'."""
    path = RunFolder(folder).summary
    summary = summary_of(path) if path.exists() else None
    return summary if summary and summary.get("levels") else run_document(folder)


def plan_of(folder: Path) -> PlanDocument:
    """The run's plan.json; empty for a run folder without one (copied without it)."""
    try:
        return read_plan(RunFolder(folder).plan)
    except DocumentError as error:
        if error.missing:
            return {}
        raise UserError(str(error), EXIT_LOCUST) from None


def read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise UserError(f"{path} cannot be read: {error.strerror}", EXIT_USAGE) from None


def main(argv: Sequence[str] | None = None) -> int:
    options = parser().parse_args(argv)
    check_run_folder(options.folder)
    graphs = Path(options.graphs) if options.graphs else None
    if graphs is not None and not graphs.parent.is_dir():
        raise UserError(f"--graphs {graphs}: {graphs.parent} is not a folder", EXIT_USAGE)
    folder = options.folder
    summary = run_summary_of(folder)
    plan = plan_of(folder)
    texts = {name: text for name, _ in TEXT_FILES if (text := read_text(folder / name))}
    from ecsload.history.report_section import history_section  # imports: after the checks
    from ecsload.report.page import PdfNotWritten, write_report

    try:
        write_report(folder, summary, plan, texts, graphs, history_section(folder, plan))
    except PdfNotWritten as error:
        raise UserError(
            f"cannot write --graphs {graphs}: {error} (report.html was written)", EXIT_USAGE
        ) from None
    except WriteError as error:
        raise UserError(
            f"cannot write the report of {folder}: {error.strerror} ({error.path})", EXIT_USAGE
        ) from None
    except OSError as error:
        raise UserError(
            f"cannot write the report of {folder}: {error.strerror} ({error.filename})",
            EXIT_USAGE,
        ) from None
    if not options.quiet:
        print(f"Find the report @ '{RunFolder(folder).report}'")
        if graphs is not None:
            print(f"Find the charts @ '{graphs}'")
    return 0


if __name__ == "__main__":
    run(main, PROG)
