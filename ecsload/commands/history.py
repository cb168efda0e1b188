"""The run history: list a target's runs, import run folders, prune, and add a run.

    run_load_test.sh history [--last N] [--endpoint URL] [--level N] [--type T] [--json]
    run_load_test.sh history import RUN_DIR...
    run_load_test.sh history prune --keep N
    python -m ecsload.commands.history append RUN_DIR   (run_load_test.sh, after the verdict)

The history is --history PATH|URL, else ECS_LOAD_HISTORY, else results/history.sqlite.
`append` never costs a run its results: a history that fails is one line, and exit 8
when the run was told to use that history (--history, ECS_LOAD_HISTORY, config),
exit 0 for the default one. Exit codes: 0 done, 2 usage or a folder or history
that cannot be read, 8 see above. docs/history.md.
"""

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ecsload.cli import OneLineParser, UserError, run
from ecsload.exits import EXIT_HISTORY, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from ecsload.history import store
from ecsload.history.changes import change_points
from ecsload.history.record import RecordError, run_record
from ecsload.history.schema import ALL_TYPES
from ecsload.history.trend import history_json, history_table
from ecsload.history_location import (
    DEFAULT_FILE,
    NO_PASSWORD,
    hidden_password,
    parse_history,
    with_history_option,
    without_secret,
)
from ecsload.run_folder import DocumentError, RunFolder, read_plan
from ecsload.values import option_type, parse_count, parse_endpoint

PROG = "python -m ecsload.commands.history"
LOCAL = "local"  # --endpoint local: the runs against the local node
DEFAULT_LAST = 20
SUBCOMMANDS = ("import", "prune", "append")


def add_history_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--history",
        metavar="PATH|URL",
        type=option_type(parse_history),
        help=f"a SQLite file or a postgresql:// URL (default: ECS_LOAD_HISTORY, else "
        f"results/{DEFAULT_FILE})",
    )


def list_parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog=os.environ.get("ECSLOAD_PROG", PROG),
        description="The runs of one target in the history: per level p95 and req/s, a "
        "sparkline per level, change points marked. Also: history import RUN_DIR..., "
        "history prune --keep N.",
    )
    add_history_option(p)
    p.add_argument(
        "--last",
        type=option_type(parse_count),
        default=DEFAULT_LAST,
        metavar="N",
        help=f"the last N runs (default: {DEFAULT_LAST})",
    )
    p.add_argument(
        "--endpoint",
        metavar="URL",
        help="whose runs: an endpoint as given to the runs, or 'local' for the "
        "local node (default: that of the run recorded last)",
    )
    p.add_argument(
        "--level",
        type=option_type(parse_count),
        action="append",
        metavar="USERS",
        help="only this level (repeat for more)",
    )
    p.add_argument(
        "--type",
        default=ALL_TYPES,
        metavar="TYPE",
        help="a request type's figures instead of all requests'",
    )
    p.add_argument("--json", action="store_true", help="JSON instead of the table")
    return p


def command_parser(name: str) -> argparse.ArgumentParser:
    p = OneLineParser(prog=f"{os.environ.get('ECSLOAD_PROG', PROG)} {name}")
    add_history_option(p)
    if name == "import":
        p.description = "Add finished run folders to the history (a folder already in it is kept)."
        p.add_argument("folders", nargs="+", metavar="RUN_DIR", type=Path)
    elif name == "prune":
        p.description = "Keep the newest N runs of each target, delete the others."
        p.add_argument("--keep", type=option_type(parse_count), required=True, metavar="N")
    else:
        p.description = (
            "Add a finished run to its history (run_load_test.sh does, after the verdict)."
        )
        p.add_argument("folder", metavar="RUN_DIR", type=Path)
    return p


def location_of(option: str | None) -> str:
    """--history, else ECS_LOAD_HISTORY (checked as the option is), else the default."""
    if option:
        return option
    found = os.environ.get("ECS_LOAD_HISTORY", "").strip()
    if not found:
        return os.path.abspath(Path("results") / DEFAULT_FILE)
    try:
        return parse_history(found)
    except ValueError as error:
        raise UserError(f"ECS_LOAD_HISTORY: {error}", EXIT_USAGE) from None


def target_of(text: str | None) -> str | None:
    if text is None:
        return None
    if text == LOCAL:
        return ""
    try:
        return parse_endpoint(text)
    except ValueError as error:
        raise UserError(f"--endpoint: {error}", 1) from None


def show(options: argparse.Namespace) -> int:
    location = location_of(options.history)
    try:
        with store.transaction(location, create=False) as connection:
            target = target_of(options.endpoint)
            if target is None:
                target = store.latest_target(connection)
            runs = (
                store.run_rows(connection, target or "", last=options.last)
                if target is not None
                else []
            )
    except store.HistoryError as error:
        raise UserError(str(error), EXIT_USAGE) from None
    shown = without_secret(location)
    if not runs:
        where = "" if target is None else f" of {target or 'the local ECS node'}"
        raise UserError(f"history {shown} has no run{where}", EXIT_USAGE)
    changes = change_points(runs, levels=options.level, types=[options.type])
    if options.json:
        print(
            json.dumps(history_json(shown, target or "", runs, changes), indent=2, allow_nan=False)
        )
    else:
        print(
            history_table(
                target or "the local ECS node", runs, changes, options.level, options.type
            )
        )
    return EXIT_OK


def folder_record(
    folder: Path,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """A run folder's rows; RecordError for a summary.json of another shape than this
    version writes (a text for a number, an object for a list): each value is then
    checked at the door by the store (store.check_row)."""
    try:
        return run_record(folder)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError) as error:
        raise RecordError(
            f"its summary.json is not one ecs-load wrote ({type(error).__name__}: "
            f"{str(error)[:80]})"
        ) from None


def import_runs(location: str, folders: Sequence[Path]) -> int:
    code = EXIT_OK
    for folder in folders:
        try:
            record = folder_record(folder)
            added = store.append(location, *record)
        except (RecordError, store.BadRow) as error:
            sys.stderr.write(f"{folder}: not imported: {error}\n")
            code = EXIT_USAGE
            continue
        except store.HistoryError as error:
            raise UserError(str(error), EXIT_USAGE) from None
        print(f"{folder}: " + (f"added as run {added}" if added else "already in the history"))
    return code


def append_run(folder: Path) -> int:
    """Add the run; a failure is one line, exit 8 for a history the run was told to use."""
    try:
        plan = read_plan(RunFolder(folder).plan)
    except DocumentError as error:
        raise UserError(str(error), EXIT_USAGE) from None
    location = os.environ.get("ECS_LOAD_HISTORY", "").strip() or plan.get("history")
    if not location:
        return EXIT_OK
    explicit = not (plan.get("sources") or {}).get("history", "default").startswith("default")
    if hidden_password(location):
        raise UserError(f"history {without_secret(location)}: {NO_PASSWORD}", EXIT_USAGE)
    try:
        added = store.append(location, *folder_record(folder), replace=True)
    except KeyboardInterrupt:
        sys.stderr.write(
            f"{os.environ.get('ECSLOAD_PROG', PROG)}: interrupted: this run was not added to "
            f"the history {without_secret(location)}; its results are complete in {folder} "
            f"(add it with: history import {folder})\n"
        )
        return EXIT_INTERRUPTED
    except (store.HistoryError, RecordError) as error:
        outcome = "exit 8" if explicit else "the run's exit code is unchanged"
        sys.stderr.write(
            f"{os.environ.get('ECSLOAD_PROG', PROG)}: this run was not added to the history "
            f"({error}); its results are complete in {folder} ({outcome})\n"
        )
        return EXIT_HISTORY if explicit else EXIT_OK
    print(f"Added to the history {without_secret(location)} as run {added}", flush=True)
    return EXIT_OK


def subcommand(args: list[str]) -> tuple[str | None, list[str]]:
    """The subcommand, wherever --history PATH puts it, and the other arguments."""
    for i, arg in enumerate(args):
        if arg in SUBCOMMANDS and (i == 0 or args[i - 1] != "--history"):
            return arg, args[:i] + args[i + 1 :]
        if not arg.startswith("-") and (i == 0 or args[i - 1] != "--history"):
            break
    return None, args


def main(argv: Sequence[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    name, args = subcommand(with_history_option(given, os.environ))
    if name is not None:
        options = command_parser(name).parse_args(args)
        if name == "append":
            return append_run(options.folder)
        location = location_of(options.history)
        if name == "import":
            return import_runs(location, options.folders)
        try:
            deleted = store.prune(location, options.keep)
        except store.HistoryError as error:
            raise UserError(str(error), EXIT_USAGE) from None
        print(f"Deleted {deleted} run(s) from {without_secret(location)}")
        return EXIT_OK
    return show(list_parser().parse_args(args))


if __name__ == "__main__":
    run(main, PROG)
