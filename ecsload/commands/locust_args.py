"""Print a worker machine's Locust command line for its master's level INDEX, NUL-separated.

    python -m ecsload.commands.locust_args worker RUN_DIR INDEX

run_load_test.sh --worker reads it with `mapfile -d ''` (no word splitting, any
character in a path). The options are built from plan.json by
ecsload.plan.locust_command; a sweep's own levels build theirs in-process
(ecsload.commands.level).
"""

import sys
from collections.abc import Sequence
from pathlib import Path

from ecsload.exits import EXIT_ERROR
from ecsload.plan.locust_command import worker_command
from ecsload.run_folder import DocumentError, RunFolder, read_plan

USAGE = "usage: python -m ecsload.commands.locust_args worker RUN_DIR INDEX"


def command(argv: Sequence[str]) -> list[str] | None:
    match argv:
        case ["worker", run_dir, index]:
            run = RunFolder(Path(run_dir))
            return worker_command(read_plan(run.plan), run.worker(int(index)))
    return None


def main(argv: Sequence[str]) -> int:
    try:
        args = command(argv)
    except (DocumentError, ValueError) as error:
        sys.stderr.write(f"python -m ecsload.commands.locust_args: {error}\n")
        return EXIT_ERROR
    if args is None:
        sys.stderr.write(USAGE + "\n")
        return EXIT_ERROR
    sys.stdout.write("".join(f"{arg}\0" for arg in args))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
