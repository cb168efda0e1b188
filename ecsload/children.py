"""Child processes signalled only where it is safe: through a pidfd, while unreaped.

Why: once a child is reaped, its PID, and the process group it led, may belong to
any process on the machine (PIDs wrap within a minute when other sweeps run), and a
signal sent by PID can kill a stranger, such as another sweep's Locust. So a child
here is signalled through its pidfd, which cannot point at another process, and its
exit is read without reaping it (waitid WNOWAIT): while its zombie stays, its group's
ID is still its own, and what is left of the group can be killed. Only then is it
reaped.

`Child.fork` runs a Python function in a forked child, in a process group of its own,
with a parent-death signal (the kernel stops it if this process dies without
stopping it). commands/supervise.py (a command for bash) and the level server's
children (commands/level_server.py, commands/level.py) are built on this.
Standard library only.
"""

import contextlib
import ctypes
import os
import select
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

PR_SET_PDEATHSIG = 1

LIBC = ctypes.CDLL(None, use_errno=True)


def die_with_parent() -> None:
    """In a child: SIGTERM if its parent dies without stopping it (SIGKILL, a CI timeout)."""
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def exit_code(pidfd: int) -> int:
    """The child's exit code as bash reports it (128 + N for a signal N), read without
    reaping it."""
    info = os.waitid(os.P_PIDFD, pidfd, os.WEXITED | os.WNOWAIT)
    if info is None:
        return 1
    if info.si_code == os.CLD_EXITED:
        return info.si_status
    return 128 + info.si_status


def kill_group(pgid: int) -> None:
    """SIGKILL the group; safe only while its leader is this process's unreaped child."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def close_now(fd: int) -> None:
    """Close `fd` at once. Not os.close: in a process gevent patched (the level server and
    what it forks), gevent's os.close defers the close to its loop, and a descriptor still
    open there leaks into the next forked child (a client's pipe would then stay open until
    that child, a Locust, exits)."""
    os.closerange(fd, fd + 1)


def redirect(output: Path | None) -> None:
    """In a child: stdin from /dev/null; stdout and stderr to `output` (created or
    truncated), or both to the parent's stderr when it is None (a terminal stays one)."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    close_now(null)
    if output is None:
        os.dup2(2, 1)
        return
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    close_now(fd)


class StopRequest:
    """A stop asked for by one of `signals`: a flag for a loop that polls it. Only a flag: in
    a process gevent runs, a handler that raised would raise inside gevent's hub."""

    def __init__(self, *signals: signal.Signals) -> None:
        self.requested = False
        for signum in signals:
            signal.signal(signum, self.request)

    def request(self, _signum: int, _frame: object) -> None:
        self.requested = True


class Child:
    """A child of this process, leader of its own process group (see the module's doc)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.pidfd = os.pidfd_open(pid)
        self.code: int | None = None  # once reaped

    @classmethod
    def fork(cls, work: Callable[[], int], fork: Callable[[], int] = os.fork) -> "Child":
        """Run `work` in a forked child, which exits with its return value (1 and a
        traceback on stderr if it raised). `fork`: gevent's `fork_gevent` in a process
        that gevent patched (its own `os.fork` would reap the child behind our back)."""
        parent = os.getpid()
        sys.stdout.flush()  # the child flushes its copy on its way out: printed twice
        sys.stderr.flush()
        pid = fork()
        if pid:
            return cls(pid)
        code = 1
        try:
            os.setpgid(0, 0)
            die_with_parent()
            if os.getppid() != parent:  # it died before the signal was armed
                os._exit(code)
            code = work()
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
        except BaseException:  # a child must never return into the parent's code
            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)

    def ended(self, timeout: float | None = 0.0) -> bool:
        """Whether the child has exited, waiting up to `timeout` seconds (None: until it has)."""
        if self.code is not None:
            return True
        ready, _, _ = select.select([self.pidfd], [], [], timeout)
        return bool(ready)

    def terminate(self) -> None:
        """SIGTERM the child (through its pidfd: never a stranger)."""
        if self.code is None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self.pidfd, signal.SIGTERM)

    def finish(self, grace: float) -> int:
        """Wait up to `grace` seconds for the child to exit, then SIGKILL its group (all of it,
        also when it exited: what it started must not outlive it), reap it and return its
        exit code."""
        if self.code is not None:
            return self.code
        if not self.ended(grace):
            kill_group(self.pid)  # unreaped: the group's ID is still its own
            # Itself too: just forked, it may not lead its group yet (a drawer stopped at
            # once was not killed, and the wait for it below never ended).
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            self.ended(None)
        code = exit_code(self.pidfd)
        kill_group(self.pid)
        os.waitpid(self.pid, 0)
        close_now(self.pidfd)
        self.code = code
        return code

    def stop(self, grace: float) -> int:
        """SIGTERM, then `finish` within `grace` seconds."""
        self.terminate()
        return self.finish(grace)
