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
    live line) finishes its files and ends cleanly when the script stops it.

    In a process gevent runs (a child of the level server: commands/level.py), gevent's
    hub takes the signal and throws Stopped into the main greenlet: a plain handler would
    raise inside the hub, which prints a traceback."""
    gevent = sys.modules.get("gevent")
    if gevent is not None:
        gevent.signal_handler(signal.SIGTERM, gevent.kill, gevent.getcurrent(), Stopped)
        return

    def raise_stopped(signum: int, frame: object) -> None:
        raise Stopped

    signal.signal(signal.SIGTERM, raise_stopped)


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (exit 2) instead of usage + error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see --help)\n")


def invoke(main: Callable[[], int], prog: str) -> int:
    """Run a command's main to its exit code, turning a UserError into its line on stderr.

    The line starts with the name of what the user ran: the command's own, or the
    script's when run_load_test.sh runs it (it exports ECSLOAD_PROG). argparse's exits
    (a usage error, --help) are exit codes too, so tests run a command in-process.
    """
    try:
        return main()
    except UserError as error:
        sys.stderr.write(f"{os.environ.get('ECSLOAD_PROG', prog)}: {error}\n")
        return error.exit_code
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            return done.code or 0
        sys.stderr.write(f"{done.code}\n")
        return EXIT_USAGE


def run(main: Callable[[], int], prog: str) -> NoReturn:
    """Run a command's main (see invoke) and exit with its code."""
    sys.exit(invoke(main, prog))
