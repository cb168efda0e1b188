"""The live line of a running level, on stderr, until SIGTERM (or the time cap and a minute).

    python -m ecsload.commands.watch LEVEL_DIR --level I --of N --users U [--rate R]
                                     [--requests N] [--time-cap S]

run_load_test.sh starts it beside each level's Locust (unless -q) and stops it
once Locust has exited, before the level's table. On a terminal the line is
redrawn in place about once a second and erased at the end, so the table takes
its place; otherwise (a CI log, a file) a plain line is written every 10 s.
The figures are read from the level's own files as they grow
(ecsload.report.live): the same data the table is made of.

Exit codes: 0 stopped; 2 usage.
"""

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ecsload.analysis.samples import SampleFileError
from ecsload.cli import OneLineParser, Stopped, run, stop_on_sigterm
from ecsload.report.live import LevelWatch, live_line
from ecsload.values import option_type, parse_count, parse_count_or_zero

PROG = "python -m ecsload.commands.watch"
TERMINAL_SECONDS = 1.0
PLAIN_SECONDS = 10.0
AFTER_CAP_SECONDS = 60  # a watcher nobody stopped ends this long after the level's time cap
DEFAULT_COLUMNS = 100
ERASE = "\r\033[K"  # back to the line's start, clear to its end


def parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog=PROG, description=__doc__.splitlines()[0])
    p.add_argument("folder", metavar="LEVEL_DIR", type=Path, help="the level's results folder")
    count = option_type(parse_count)
    p.add_argument("--level", metavar="I", type=count, required=True, help="the level's number")
    p.add_argument("--of", metavar="N", type=count, required=True, help="levels in the sweep")
    p.add_argument("--users", metavar="U", type=count, required=True, help="the level's users")
    p.add_argument(
        "--requests",
        metavar="N",
        type=option_type(parse_count_or_zero),
        help="the level's measured requests (0: a timed level, no count)",
    )
    p.add_argument("--rate", metavar="R", type=count, help="an arrival-rate level's rate (/s)")
    p.add_argument("--time-cap", metavar="S", type=count, help="the level's time cap (s)")
    return p


def watch(options: argparse.Namespace, terminal: bool) -> None:
    """Draw the line every TERMINAL_SECONDS on a terminal, else every PLAIN_SECONDS."""
    level = LevelWatch(options.folder)
    interval = TERMINAL_SECONDS if terminal else PLAIN_SECONDS
    cap = options.time_cap
    deadline = time.monotonic() + (cap or 24 * 3600) + AFTER_CAP_SECONDS
    next_draw = time.monotonic() + (0 if terminal else interval)
    while time.monotonic() < deadline:
        time.sleep(max(0.0, next_draw - time.monotonic()))
        next_draw += interval
        line = live_line(
            level.update(time.time()),
            options.level,
            options.of,
            options.users,
            options.requests,
            cap,
            options.rate,
        )
        if terminal:
            sys.stderr.write(ERASE + line[: max(columns() - 1, 10)])
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def columns() -> int:
    """The terminal's width: a longer line would wrap, and \\r would redraw only its end."""
    try:
        columns = os.get_terminal_size(sys.stderr.fileno()).columns
    except OSError:
        columns = 0
    return columns or DEFAULT_COLUMNS  # 0: a terminal that does not say


def main(argv: Sequence[str] | None = None) -> int:
    options = parser().parse_args(argv)
    terminal = os.isatty(sys.stderr.fileno())
    stop_on_sigterm()
    try:
        watch(options, terminal)
    except (Stopped, KeyboardInterrupt, SampleFileError):
        pass  # the level is over, or its samples cannot be read: the table will say
    finally:
        if terminal:
            sys.stderr.write(ERASE)
            sys.stderr.flush()
    return 0


if __name__ == "__main__":
    run(main, PROG)
