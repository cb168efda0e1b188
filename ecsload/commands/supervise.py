"""Run one command for run_load_test.sh, and stop it and everything it started when told.

    python -m ecsload.commands.supervise -- COMMAND [ARG...]

Why it exists: bash reaps a child the moment it exits, and from then on the
child's PID, and the process group it led, may belong to any process on the
machine (PIDs wrap within a minute when other sweeps run). A script that
signals by PID after that can kill a stranger, such as another sweep's Locust.
So the script never signals what it launched: it writes the grace seconds to
this process's stdin (or closes it) to ask for a stop, and this process does
the signalling where it is safe:

- it starts COMMAND in a process group of its own and signals COMMAND only
  through a pidfd, which cannot point at another process;
- once COMMAND exits, it keeps COMMAND's zombie unreaped (waitid WNOWAIT), so
  the group's ID cannot be recycled, while it kills what is left of the group;
- it is a child subreaper: descendants that left the group come back to it
  when their parent dies, and it kills and reaps them (they are its own
  children, so their PIDs are pinned too) before it reaps COMMAND and exits
  with COMMAND's code (128 + N for a signal N, as bash says it).

The pidfd rules are ecsload/children.py's (the level server's children keep them too);
this command adds the pipe from bash and the subreaper. A stop request waits GRACE
seconds after SIGTERM before SIGKILL for the group.
SIGTERM, SIGINT or SIGHUP to this process (its parent-death signal) is a stop
request with the default grace. Standard library only.
"""

import contextlib
import os
import selectors
import signal
import subprocess
import sys
import time

from ecsload.children import LIBC, die_with_parent, exit_code, kill_group

PR_SET_CHILD_SUBREAPER = 36
DEFAULT_GRACE = 5.0
MAX_GRACE = 600.0
CLEANUP_SECONDS = 10.0  # bound on killing and reaping what COMMAND left behind
POLL_SECONDS = 0.1


def become_subreaper() -> None:
    """Orphaned descendants are re-parented to this process instead of init."""
    LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def close_inherited_fds() -> None:
    """Close every descriptor but 0-2: bash's pipes to other supervisors must not stay open here."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2:
            with contextlib.suppress(OSError):  # the listing's own descriptor, closed
                os.close(fd)


def parse_grace(data: bytes) -> float:
    """The grace seconds the script wrote, or the default for EOF or anything unreadable."""
    try:
        grace = float(data.split(b"\n", 1)[0] or b"x")
    except ValueError:
        return DEFAULT_GRACE
    return min(max(grace, 0.0), MAX_GRACE)


def own_children() -> list[int]:
    """This process's children (unreaped, so their PIDs are still theirs)."""
    pid = os.getpid()
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as file:
            return [int(word) for word in file.read().split()]
    except OSError:
        return []


def clear_leftovers(leader: int) -> None:
    """Kill and reap every other child (the group's rest, adopted orphans), then reap the leader."""
    deadline = time.monotonic() + CLEANUP_SECONDS
    while time.monotonic() < deadline:
        kill_group(leader)
        others = [pid for pid in own_children() if pid != leader]
        if not others:
            break
        for pid in others:
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(pid, signal.SIGKILL)  # our unreaped child: the PID is still its own
                os.waitpid(pid, os.WNOHANG)
        time.sleep(POLL_SECONDS)
    os.waitpid(leader, 0)


class Stop:
    """A stop request: from stdin (the script) or a signal to this process."""

    def __init__(self) -> None:
        self.grace: float | None = None

    def request(self, grace: float) -> None:
        if self.grace is None:
            self.grace = grace

    def on_signal(self, _signum: int, _frame: object) -> None:
        self.request(DEFAULT_GRACE)


def supervise(command: list[str]) -> int:
    close_inherited_fds()
    become_subreaper()
    stop = Stop()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop.on_signal)
    child = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, process_group=0, preexec_fn=die_with_parent
    )
    pidfd = os.pidfd_open(child.pid)
    selector = selectors.DefaultSelector()
    selector.register(pidfd, selectors.EVENT_READ)
    selector.register(0, selectors.EVENT_READ)
    kill_at: float | None = None
    while True:
        ready = {key.fd for key, _ in selector.select(POLL_SECONDS)}
        if pidfd in ready:
            break
        if 0 in ready:
            selector.unregister(0)  # one word is enough; EOF would stay readable
            stop.request(parse_grace(_read_stdin()))
        if stop.grace is not None and kill_at is None:
            signal.pidfd_send_signal(pidfd, signal.SIGTERM)
            kill_at = time.monotonic() + stop.grace
        if kill_at is not None and time.monotonic() >= kill_at:
            kill_group(child.pid)  # COMMAND is unreaped: its group's ID is still its own
    code = exit_code(pidfd)
    clear_leftovers(child.pid)
    child.returncode = code  # reaped above; keeps Popen from trying again
    return code


def _read_stdin() -> bytes:
    try:
        return os.read(0, 64)
    except OSError:
        return b""


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "--":
        sys.stderr.write("usage: python -m ecsload.commands.supervise -- COMMAND [ARG...]\n")
        return 2
    return supervise(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
