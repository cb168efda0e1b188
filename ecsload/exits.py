"""The exit codes of run_load_test.sh and the harness's commands: the one table they all use.

`--help` prints it, docs/exit-codes.md's table is checked against it by a test, and bash takes
its numbers from the plan, whose output ends with `EXIT_NAME=N` lines (only EXIT_NO_PYTHON,
needed before Python runs, is written in the script too). Standard library only: `--help`
runs on bare python3.
"""

from typing import NamedTuple

from ecsload.helptext import help_row


class ExitCode(NamedTuple):
    code: int
    name: str  # the variable bash sees, EXIT_<name>
    meaning: str


EXIT_CODES = (
    ExitCode(0, "OK", "done: every level ran and was summarised, and no verdict failed"),
    ExitCode(
        1,
        "ERROR",
        "the harness itself failed (a traceback, or an internal command that could not do its "
        "work): a defect; report it with the run folder",
    ),
    ExitCode(
        2,
        "USAGE",
        "bad input: an unknown option, a bad or out-of-range option value, settings that do "
        "not go together, an invalid or unreadable config file, environment variable, "
        "endpoint, credentials, CA bundle or baseline folder, a baseline this run cannot be "
        "compared or judged with (--fail-on-regression), or an https endpoint whose "
        "certificate does not verify",
    ),
    ExitCode(
        3,
        "NODE",
        "the local ECS node did not start (the last lines of its log are shown), or it exited "
        "during the sweep (the sweep stops at once)",
    ),
    ExitCode(
        4,
        "LOCUST",
        "Locust failed, a level recorded no samples, or a summary or verdict file could not be "
        "written (a full disk)",
    ),
    ExitCode(5, "NO_PYTHON", "no Python environment could be set up (python3 or pip failed)"),
    ExitCode(6, "THRESHOLDS", "a threshold (--fail-on) failed at some level; see thresholds.txt"),
    ExitCode(
        7,
        "REGRESSION",
        "--fail-on-regression and the comparison with the baseline said slower (no threshold "
        "failed); see comparison.txt",
    ),
    ExitCode(
        8,
        "HISTORY",
        "the run's results are complete, but the history it was told to use (--history, "
        "ECS_LOAD_HISTORY, config history) could not be written: locked, unreachable, "
        "corrupt or of a newer schema (no threshold failed and no regression); "
        "docs/history.md",
    ),
    ExitCode(
        130, "INTERRUPTED", "interrupted (Ctrl-C or SIGTERM): Locust and the node were stopped"
    ),
)

_BY_NAME = {exit.name: exit.code for exit in EXIT_CODES}
EXIT_OK = _BY_NAME["OK"]
EXIT_ERROR = _BY_NAME["ERROR"]
EXIT_USAGE = _BY_NAME["USAGE"]
EXIT_NODE = _BY_NAME["NODE"]
EXIT_LOCUST = _BY_NAME["LOCUST"]
EXIT_NO_PYTHON = _BY_NAME["NO_PYTHON"]
EXIT_THRESHOLDS = _BY_NAME["THRESHOLDS"]
EXIT_REGRESSION = _BY_NAME["REGRESSION"]
EXIT_HISTORY = _BY_NAME["HISTORY"]
EXIT_INTERRUPTED = _BY_NAME["INTERRUPTED"]


def exit_codes_help() -> str:
    """The table as --help's epilog prints it, wrapped at 79 columns."""
    width = max(len(str(exit.code)) for exit in EXIT_CODES)
    lines = [help_row(f"{exit.code:>{width}}", exit.meaning) for exit in EXIT_CODES]
    return "exit codes:\n" + "\n".join(lines)


def shell_assignments() -> str:
    """`EXIT_USAGE=2` …, one per line, for run_load_test.sh (the plan prints them)."""
    return "".join(f"EXIT_{exit.name}={exit.code}\n" for exit in EXIT_CODES)
