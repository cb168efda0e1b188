"""Exit codes and one-line errors shared by the harness's commands.

Every bad input a user can fix ends with one line on stderr and a documented
exit code, never a traceback: commands raise `UserError` and `run` reports it.
"""

import argparse
import sys
from collections.abc import Callable
from typing import NoReturn

EXIT_OK = 0
EXIT_USAGE = 1
EXIT_CONFIG = 2
EXIT_NODE = 3
EXIT_LOCUST = 4

EXIT_CODES_HELP = """\
exit codes:
  0  done
  1  usage: an unknown option or a malformed option value
  2  invalid or unreadable config or credentials (or an unusable results folder)
  3  the local ECS node did not start
  4  Locust failed or a level recorded no samples
  5  no Python environment could be set up (python3 or pip failed)
  130  interrupted (Ctrl-C or SIGTERM); Locust and the local node were stopped"""


class UserError(Exception):
    """A problem the user can fix: its message is the one line they see."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (exit 1) instead of usage + error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see --help)\n")


def run(main: Callable[[], int], prog: str) -> NoReturn:
    """Run a command's main, turning a UserError into its line on stderr and its exit code."""
    try:
        code = main()
    except UserError as error:
        sys.stderr.write(f"{prog}: {error}\n")
        code = error.exit_code
    sys.exit(code)
