"""Why a level's Locust failed, in one line, from what its log and output say.

run_load_test.sh only knows Locust's exit code; the cause is in the level's
locust.log or output.txt. The known causes are matched here, so the user reads
"the disk is full" rather than "Locust failed".
"""

import re
from pathlib import Path

from ecsload.run_folder import DocumentError, LevelFolder, read_plan, run_folder_of

# (what Locust or Python writes, what the user is told); first match wins.
KNOWN_CAUSES = (
    ("Gave up waiting for workers", "not all Locust workers connected within {worker_wait} s"),
    ("every Locust worker went missing", "every Locust worker went missing (no heartbeat)"),
    ("No space left on device", "the disk is full (No space left on device{file})"),
    ("Address already in use", "a port Locust needs is taken (Address already in use)"),
    ("Too many open files", "out of file descriptors (Too many open files): raise ulimit -n"),
    ("MemoryError", "out of memory"),
)


# The plugin's line for a file it could not write (ecsload.plugin.level).
UNWRITTEN = re.compile(r"cannot write (\S+): No space left on device")


def locust_failure(level: LevelFolder, users: int, exit_code: int) -> str:
    """The one line that says why the level at `users` failed."""
    text = "".join(read_text(path) for path in (level.locust_log, level.output))
    for mark, cause in KNOWN_CAUSES:
        if mark in text:
            cause = cause.format(worker_wait=worker_wait(level), file=unwritten_file(text))
            return f"Locust failed at {users} concurrency: {cause}; see '{level.locust_log}'"
    return f"Locust failed at {users} concurrency (exit {exit_code}); see '{level.output}'"


def unwritten_file(text: str) -> str:
    """ ", writing FILE" when the log names the file that a full disk stopped, else ""."""
    found = UNWRITTEN.search(text)
    return f", writing {found.group(1)}" if found else ""


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def worker_wait(level: LevelFolder) -> object:
    """The plan's --worker-wait, for the message; "the --worker-wait" if it cannot be read."""
    try:
        return read_plan(run_folder_of(level.path).plan)["distribution"]["worker_wait"]
    except (DocumentError, KeyError, TypeError):
        return "the --worker-wait"
