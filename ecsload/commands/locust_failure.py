"""Why a level's Locust failed, in one line, from what its log and output say.

run_load_test.sh only knows Locust's exit code; the cause is in the level's
locust.log or output.txt. The known causes are matched here, so the user reads
"the disk is full" rather than "Locust failed".
"""

import json
from pathlib import Path

# (what Locust or Python writes, what the user is told); first match wins.
KNOWN_CAUSES = (
    ("Gave up waiting for workers", "not all Locust workers connected within {worker_wait} s"),
    ("every Locust worker went missing", "every Locust worker went missing (no heartbeat)"),
    ("No space left on device", "the disk is full (No space left on device)"),
    ("Address already in use", "a port Locust needs is taken (Address already in use)"),
    ("Too many open files", "out of file descriptors (Too many open files): raise ulimit -n"),
    ("MemoryError", "out of memory"),
)


def locust_failure(level_dir: Path, users: int, exit_code: int) -> str:
    """The one line that says why the level at `users` failed."""
    text = "".join(read_text(level_dir / name) for name in ("locust.log", "output.txt"))
    for mark, cause in KNOWN_CAUSES:
        if mark in text:
            cause = cause.format(worker_wait=worker_wait(level_dir.parent))
            return f"Locust failed at {users} concurrency: {cause}; see '{level_dir}/locust.log'"
    return f"Locust failed at {users} concurrency (exit {exit_code}); see '{level_dir}/output.txt'"


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def worker_wait(run_dir: Path) -> object:
    """The plan's --worker-wait, for the message; "the --worker-wait" if it cannot be read."""
    try:
        plan = json.loads((run_dir / "plan.json").read_text(encoding="utf-8"))
        return plan["distribution"]["worker_wait"]
    except (OSError, ValueError, KeyError, TypeError):
        return "the --worker-wait"
