"""What a worker machine's Locust did in a level, for run_load_test.sh --worker.

    python -m ecsload.commands.worker_state WORKER_JSON

Prints one word: `next` (the master ended the level and another follows),
`over` (the master's sweep is over), `lost` (no master ended the level: the
worker quit on its own, or never wrote the file).
"""

import sys
from pathlib import Path

from ecsload.run_folder import DocumentError, read_worker_info


def worker_state(path: Path) -> str:
    try:
        info = read_worker_info(path)
    except DocumentError:
        return "lost"
    if not info.get("finished"):
        return "lost"
    return "over" if info.get("sweep_over") else "next"


if __name__ == "__main__":
    print(worker_state(Path(sys.argv[1])))
