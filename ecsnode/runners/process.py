"""The process runner: a task's command runs as a host child process (no Docker needed).

Each task gets a fresh temporary folder (its own) as its working directory and HOME, a
minimal environment, no shell, no stdin, a time limit and capped output, and runs confined
(confine.py): as an unprivileged user when the node is root, in a PID namespace of its own
where the node can make one (else its process group), so a timeout or shutdown kills
everything it started, and under limits on processes, memory and CPU. The image only has to
be in the configured catalog: the command runs on the host whatever the image says.

It starts children with `subprocess.Popen` and watches their pipes, exit and time limit
straight from the event loop (`add_reader` on the pipes and on a pidfd, `call_later`) instead
of through asyncio's subprocess API, whose transports, protocols, stream readers and tasks
cost the node's event loop (which serves every request) 0.9 ms of CPU per `echo` task
against 0.55 ms this way, on the 2-core bench machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from typing import IO

from ecsnode.runners.base import ImageNotFound, RunnerError, TaskResult, TaskRunner
from ecsnode.runners.confine import PRIVATE_FOLDER, confinement
from ecsnode.settings import Settings

OUTPUT_CAP = 64 * 1024
"""Bytes of stdout and of stderr kept per task; the rest is read and dropped."""

EXIT_CANNOT_START = 127
ENV_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SHM = "/dev/shm"
READ_SIZE = 64 * 1024
DRAIN_READS = 16
"""Reads left to a pipe once its task has exited: 1 MiB, the most a pipe holds by default, so
a writer that escaped the task's process group cannot keep the task from finishing."""
HEALTH_TIMEOUT = 1.0

log = logging.getLogger(__name__)


def task_folder_parent() -> str | None:
    """Where task folders go: TMPDIR if set, else tmpfs, where making and removing a folder
    per task costs a fifth of what it does on a disk; None means tempfile's default."""
    if os.environ.get("TMPDIR") or not os.access(SHM, os.W_OK | os.X_OK):
        return None
    return SHM


def _remove_folder(folder: str) -> None:
    """One rmdir when the task left nothing behind (the usual case, a third of rmtree's cost),
    else the whole tree."""
    try:
        os.rmdir(folder)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        if os.path.lexists(folder):
            log.warning("could not remove the task folder %s", folder)


def _start(argv: list[str], folder: str) -> subprocess.Popen[bytes]:
    """Start `argv` in `folder`, in a new session (its own process group), without a shell.

    Popen takes CPython's vfork path (no preexec_fn, user or group changes, which is why the
    confinement is exec'd wrappers): the event loop waits only until the child has called exec
    (0.3 ms when the machine is idle, 1 to 2 ms when the child has to wait for a CPU). A thread
    would not free the loop: fork_exec holds the GIL. LANG is left out on purpose: a UTF-8
    locale makes every command load locale files (a third of `echo`'s CPU here), and Docker
    gives a container no LANG either.
    """
    return subprocess.Popen(
        argv,
        cwd=folder,
        env={"PATH": ENV_PATH, "HOME": folder, "TMPDIR": folder},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _kill_group(pid: int) -> None:
    """Kill the task's process group: the command and anything it left behind (in a PID
    namespace, killing its init, the command, makes the kernel kill all the rest)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


class _CappedPipe:
    """A child's stdout or stderr, read by the event loop as data comes: the first OUTPUT_CAP
    bytes are kept, the rest dropped, so the child never blocks on a full pipe."""

    def __init__(self, loop: asyncio.AbstractEventLoop, stream: IO[bytes]) -> None:
        self._loop = loop
        self._stream = stream
        self._fd = stream.fileno()
        self._open = True
        self.kept = bytearray()
        os.set_blocking(self._fd, False)
        loop.add_reader(self._fd, self._read)

    def _read(self) -> bool:
        """One read; False once nothing more is waiting (or ever will be)."""
        try:
            chunk = os.read(self._fd, READ_SIZE)
        except BlockingIOError:
            return False
        if not chunk:
            self._loop.remove_reader(self._fd)
            self._open = False
            return False
        if len(self.kept) < OUTPUT_CAP:
            self.kept += chunk[: OUTPUT_CAP - len(self.kept)]
        return True

    def close(self) -> bytes:
        """Take what is still in the pipe, stop watching it, and return the kept bytes."""
        for _ in range(DRAIN_READS):
            if not (self._open and self._read()):
                break
        if self._open:
            self._loop.remove_reader(self._fd)
        self._stream.close()
        return bytes(self.kept)


class _Child:
    """A started task, driven by event-loop callbacks alone: its pipes, its exit (through a
    pidfd; where the kernel has none, a thread waits instead) and its time limit (a timer).

    When the process exits, its group is killed (whatever it left running), its pipes are
    drained and closed, and `done` gets the TaskResult; this also happens when the coroutine
    awaiting `done` was cancelled, once `kill` has ended the task.
    """

    def __init__(self, proc: subprocess.Popen[bytes], timeout: float) -> None:
        assert proc.stdout is not None and proc.stderr is not None
        self._loop = asyncio.get_running_loop()
        self._proc = proc
        self._out = _CappedPipe(self._loop, proc.stdout)
        self._err = _CappedPipe(self._loop, proc.stderr)
        self._timeout = timeout
        self._timer = self._loop.call_later(timeout, self._time_out)
        self._timed_out = False
        self._reaped = False
        self.done: asyncio.Future[TaskResult] = self._loop.create_future()
        try:
            self._pidfd = os.pidfd_open(proc.pid)
        except (AttributeError, OSError):
            self._pidfd = -1
            threading.Thread(target=self._wait_in_thread, daemon=True).start()
        else:
            self._loop.add_reader(self._pidfd, self._exited)

    def kill(self) -> None:
        """Kill the task's process group, unless it was reaped (its pid may be reused then)."""
        if not self._reaped:
            _kill_group(self._proc.pid)

    def _time_out(self) -> None:
        self._timed_out = True
        self.kill()

    def _wait_in_thread(self) -> None:
        os.waitid(os.P_PID, self._proc.pid, os.WEXITED | os.WNOWAIT)  # leaves the zombie
        with contextlib.suppress(RuntimeError):  # the loop closed first: nothing to tell
            self._loop.call_soon_threadsafe(self._exited)

    def _exited(self) -> None:
        """The process has exited but is not reaped yet, so its group id cannot be reused."""
        self._timer.cancel()
        if self._pidfd >= 0:
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
        self.kill()
        returncode = self._proc.wait()  # at once: the process has exited
        self._reaped = True
        out, err = self._out.close(), self._err.close()
        if self._timed_out:
            err += f"ecs: task killed after its {self._timeout:g} s time limit\n".encode()
        exit_code = 128 - returncode if returncode < 0 else returncode
        if not self.done.cancelled():
            self.done.set_result(TaskResult(exit_code, out, err))


class ProcessRunner(TaskRunner):
    name = "process"

    def __init__(self, settings: Settings) -> None:
        self._images = frozenset(settings.images)
        self._timeout = settings.task_timeout
        self._folder_parent = task_folder_parent()
        self._confinement = confinement(settings)
        self._running: set[_Child] = set()
        self._closed = False

    async def run(self, image: str, cmd: list[str], creds: dict[str, str] | None) -> TaskResult:
        if image not in self._images:
            raise ImageNotFound(f"image {image!r} is not in this node's catalog")
        if self._closed:
            raise RunnerError("the node is stopping")
        return await self._execute(cmd, self._timeout)

    async def _execute(self, cmd: list[str], timeout: float) -> TaskResult:
        """Run `cmd` in a fresh folder within `timeout` seconds; 127 when it cannot start."""
        folder = PRIVATE_FOLDER if self._confinement.private_files else self._make_folder()
        try:
            try:
                with self._confinement.starting():
                    proc = _start([*self._confinement.wrapper, *cmd], folder)
            except (OSError, ValueError) as error:
                reason = f"cannot start {cmd[0]!r}: {getattr(error, 'strerror', None) or error}\n"
                return TaskResult(EXIT_CANNOT_START, b"", reason.encode())
            child = _Child(proc, timeout)
            self._running.add(child)
            try:
                return await child.done
            finally:
                self._running.discard(child)
                child.kill()  # only when the wait was cancelled: the task is over otherwise
        finally:
            if not self._confinement.private_files:  # a private /tmp goes with its namespace
                _remove_folder(folder)

    def _make_folder(self) -> str:
        """A fresh folder for one task, owned by the user the task runs as."""
        try:
            folder = tempfile.mkdtemp(prefix="ecs-task-", dir=self._folder_parent)
        except OSError as error:
            raise RunnerError(f"cannot make the task's folder: {error.strerror}") from None
        try:
            self._confinement.chown(folder)
        except OSError as error:
            _remove_folder(folder)
            raise RunnerError(f"cannot hand the task's folder over: {error.strerror}") from None
        return folder

    def log_setup(self) -> None:
        log.info("process runner: %s", self._confinement.description)
        for warning in self._confinement.warnings:
            log.warning("process runner: %s", warning)

    async def health(self) -> tuple[str, dict[str, object]]:
        """Green when a trivial process starts, the way tasks do, and exits 0 within a second."""
        started = time.perf_counter()
        details: dict[str, object] = {"command": "true"}
        try:
            result = await self._execute(["true"], HEALTH_TIMEOUT)
        except RunnerError as error:
            details["error"] = str(error)
        else:
            details["exit code"] = result.exit_code
            if result.stderr:
                details["error"] = result.stderr.decode(errors="replace").strip()
        details["ms"] = round((time.perf_counter() - started) * 1000, 1)
        status = "green" if details.get("exit code") == 0 else "red"
        return "process runner", {"status": status, "details": details}

    async def close(self) -> None:
        self._closed = True
        for child in list(self._running):
            child.kill()
