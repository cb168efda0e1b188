"""Print the Locust command line of a level, or of a worker machine's level, NUL-separated.

    python -m ecsload.commands.locust_args level RUN_DIR KEY REPEAT LAST ENDPOINT CREDENTIALS
        [SECONDS]
    python -m ecsload.commands.locust_args worker RUN_DIR INDEX

run_load_test.sh reads it with `mapfile -d ''` (no word splitting, any character
in a path). KEY is the level's users (or arrival rate); REPEAT its repeat (0: the
sweep runs once); LAST 1 for the sweep's last level; ENDPOINT and CREDENTIALS the
ones the level uses (the local node's, once it runs); SECONDS a capacity search
step's own. The options are built from
plan.json by ecsload.plan.locust_command.
"""

import sys
from collections.abc import Sequence
from pathlib import Path

from ecsload.exits import EXIT_ERROR
from ecsload.plan.locust_command import level_command, worker_command
from ecsload.run_folder import DocumentError, RunFolder, read_plan

USAGE = (
    "usage: python -m ecsload.commands.locust_args level RUN_DIR KEY REPEAT LAST ENDPOINT "
    "CREDENTIALS [SECONDS] | worker RUN_DIR INDEX"
)


def command(argv: Sequence[str]) -> list[str] | None:
    match argv:
        case ["level", run_dir, key, repeat, last, endpoint, credentials, *seconds] if (
            len(seconds) <= 1
        ):
            run = RunFolder(Path(run_dir))
            folder = run.level(int(key))
            folder = folder.repeat(int(repeat)) if int(repeat) else folder
            plan = read_plan(run.plan)
            step = float(seconds[0]) if seconds else None
            return level_command(plan, folder, int(key), last == "1", endpoint, credentials, step)
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
