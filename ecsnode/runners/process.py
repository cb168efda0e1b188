"""The process runner: a task's command runs as a host child process (no Docker needed).

Each task gets a fresh temporary folder as its working directory and HOME, a minimal
environment, no shell, no stdin, its own process group (so a timeout or shutdown kills
everything it started), a time limit and capped output. The image only has to be in the
configured catalog: the command runs on the host whatever the image says.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import tempfile
import time

from ecsnode.runners.base import ImageNotFound, RunnerError, TaskResult, TaskRunner
from ecsnode.settings import Settings

OUTPUT_CAP = 64 * 1024
"""Bytes of stdout and of stderr kept per task; the rest is read and dropped."""

EXIT_CANNOT_START = 127
ENV_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SHM = "/dev/shm"


def task_folder_parent() -> str | None:
    """Where task folders go: TMPDIR if set, else tmpfs, where making and removing a folder
    per task costs a fifth of what it does on a disk; None means tempfile's default."""
    if os.environ.get("TMPDIR") or not os.access(SHM, os.W_OK | os.X_OK):
        return None
    return SHM


async def _read_capped(stream: asyncio.StreamReader) -> bytes:
    """Everything up to OUTPUT_CAP bytes; keeps draining so the child never blocks on a pipe."""
    kept = bytearray()
    while chunk := await stream.read(65536):
        if len(kept) < OUTPUT_CAP:
            kept += chunk[: OUTPUT_CAP - len(kept)]
    return bytes(kept)


def _kill_group(pid: int) -> None:
    """Kill the task's process group: the command and anything it left behind."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


class ProcessRunner(TaskRunner):
    name = "process"

    def __init__(self, settings: Settings) -> None:
        self._images = frozenset(settings.images)
        self._timeout = settings.task_timeout
        self._folder_parent = task_folder_parent()
        self._running: set[int] = set()
        self._closed = False

    async def run(self, image: str, cmd: list[str], creds: dict[str, str] | None) -> TaskResult:
        if image not in self._images:
            raise ImageNotFound(f"image {image!r} is not in this node's catalog")
        if self._closed:
            raise RunnerError("the node is stopping")
        try:
            workspace = tempfile.TemporaryDirectory(prefix="ecs-task-", dir=self._folder_parent)
        except OSError as error:
            raise RunnerError(f"cannot make the task's folder: {error.strerror}") from None
        with workspace as folder:
            env = {"PATH": ENV_PATH, "HOME": folder, "TMPDIR": folder, "LANG": "C.UTF-8"}
            try:
                proc = await asyncio.create_subprocess_exec(
                    *cmd,
                    cwd=folder,
                    env=env,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                    start_new_session=True,
                )
            except (OSError, ValueError) as error:
                reason = f"cannot start {cmd[0]!r}: {getattr(error, 'strerror', None) or error}\n"
                return TaskResult(EXIT_CANNOT_START, b"", reason.encode())
            return await self._finish(proc)

    async def _finish(self, proc: asyncio.subprocess.Process) -> TaskResult:
        """Wait for the task within its time limit, then collect its capped output."""
        assert proc.stdout is not None and proc.stderr is not None
        stdout = asyncio.create_task(_read_capped(proc.stdout))
        stderr = asyncio.create_task(_read_capped(proc.stderr))
        self._running.add(proc.pid)
        timed_out = False
        try:
            async with asyncio.timeout(self._timeout):
                await proc.wait()
        except TimeoutError:
            timed_out = True
        finally:
            _kill_group(proc.pid)
            self._running.discard(proc.pid)
        returncode = await proc.wait()
        out, err = await stdout, await stderr
        if timed_out:
            err += f"ecs: task killed after its {self._timeout:g} s time limit\n".encode()
        exit_code = 128 - returncode if returncode < 0 else returncode
        return TaskResult(exit_code, out, err)

    async def health(self) -> tuple[str, dict[str, object]]:
        """Green when a trivial process starts and exits 0 within a second."""
        started = time.perf_counter()
        details: dict[str, object] = {"command": "true"}
        try:
            proc = await asyncio.create_subprocess_exec(
                "true", stdin=asyncio.subprocess.DEVNULL, env={"PATH": ENV_PATH}
            )
        except OSError as error:
            details["error"] = f"cannot start: {error.strerror or error}"
        else:
            try:
                async with asyncio.timeout(1.0):
                    details["exit code"] = await proc.wait()
            except TimeoutError:
                proc.kill()
                details["error"] = "did not exit within 1 s"
        details["ms"] = round((time.perf_counter() - started) * 1000, 1)
        status = "green" if details.get("exit code") == 0 else "red"
        return "process runner", {"status": status, "details": details}

    async def close(self) -> None:
        self._closed = True
        for pid in list(self._running):
            _kill_group(pid)
