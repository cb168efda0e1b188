"""One-line errors shared by the harness's commands.

Every bad input a user can fix ends with one line on stderr and a documented
exit code (ecsload.exits), never a traceback: commands raise `UserError` and
`run` reports it. Standard library only: `--help` runs on bare python3 and
imports the plan, which imports this.
"""

import argparse
import os
import signal
import sys
from collections.abc import Callable
from typing import NoReturn

from ecsload.exits import EXIT_USAGE


class UserError(Exception):
    """A problem the user can fix: its message is the one line they see."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Stopped(Exception):
    """SIGTERM: the script that started this command wants it to end (see stop_on_sigterm)."""


def stop_on_sigterm() -> None:
    """Make SIGTERM raise Stopped, so that a command running beside a level (the probe, the
    live line) finishes its files and ends cleanly when the script stops it."""

    def raise_stopped(signum: int, frame: object) -> None:
        raise Stopped

    signal.signal(signal.SIGTERM, raise_stopped)


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (exit 1) instead of usage + error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see --help)\n")


def run(main: Callable[[], int], prog: str) -> NoReturn:
    """Run a command's main, turning a UserError into its line on stderr and its exit code.

    The line starts with the name of what the user ran: the command's own, or the
    script's when run_load_test.sh runs it (it exports ECSLOAD_PROG).
    """
    try:
        code = main()
    except UserError as error:
        sys.stderr.write(f"{os.environ.get('ECSLOAD_PROG', prog)}: {error}\n")
        code = error.exit_code
    sys.exit(code)
