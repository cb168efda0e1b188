"""How the process runner confines a task: its user, its PID namespace, its resource limits.

Chosen once, when the runner starts (docs/node.md, "Safety", says why these and not others):

- As root, each task runs as an unprivileged user (--task-user, default nobody) through
  util-linux's `setpriv` (no supplementary groups, no new privileges, killed if the node
  dies), so it cannot touch what the node's user keeps private. Not root, it runs as the
  node's user: there is no one else to become.
- Where the node may make PID namespaces (as root), each task's command is the init of a new
  one: when it exits or is killed, the kernel kills everything the task started, `setsid` or
  not, and a task cannot signal anything outside it. The node makes the namespace for the
  next child of its own thread (unshare(2)), starts the child and takes its namespace back
  (setns(2)), so the child is the namespace's init with no extra process or exec. Elsewhere
  the task has its process group, which a process that calls `setsid` leaves.
- Limits on processes, address space and CPU time (RLIMIT_NPROC, RLIMIT_AS, RLIMIT_CPU) are
  set by util-linux's `prlimit`, the first program of the task.

The wrappers are exec'd, not run as Popen's preexec_fn, which would cost the event loop a
full fork instead of CPython's vfork (see process.py), and would run Python in the child of
a process that has threads.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

from ecsnode.runners.base import RunnerError
from ecsnode.settings import Settings

CLONE_NEWPID = 0x20000000
"""From <sched.h>; Python 3.12 has os.unshare and os.setns, 3.11 calls libc through ctypes."""
DEFAULT_TASK_USER = "nobody"
TOOLS_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
"""Where the wrappers are looked up: the system's own folders (the node may be root)."""


class PidNamespaces:
    """Gives the next child that the calling thread starts a PID namespace of its own.

    Made (and so probed: OSError where the node may not make namespaces) on the thread that
    starts the tasks, the event loop's.
    """

    def __init__(self) -> None:
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._own = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        try:
            self._call(self._libc.unshare(CLONE_NEWPID), "unshare")
            self._call(self._libc.setns(self._own, CLONE_NEWPID), "setns")
        except OSError:
            os.close(self._own)
            raise

    @contextlib.contextmanager
    def for_next_child(self) -> Iterator[None]:
        """Within the block, the thread's next child is the init of a new PID namespace; a
        failure here is the runner's (RunnerError), not the task's."""
        try:
            self._call(self._libc.unshare(CLONE_NEWPID), "unshare")
        except OSError as error:
            raise RunnerError(f"cannot make the task's PID namespace: {error.strerror}") from None
        try:
            yield
        finally:
            try:
                self._call(self._libc.setns(self._own, CLONE_NEWPID), "setns")
            except OSError as error:
                raise RunnerError(
                    f"cannot leave the task's PID namespace: {error.strerror}"
                ) from None

    @staticmethod
    def _call(result: int, name: str) -> None:
        if result != 0:
            number = ctypes.get_errno()
            raise OSError(number, f"{name}(CLONE_NEWPID): {os.strerror(number)}")


def _tool(name: str) -> str:
    path = shutil.which(name, path=TOOLS_PATH)
    if path is None:
        raise RunnerError(
            f"the process runner needs util-linux's {name}: apt-get install util-linux"
        )
    return path


def _task_user(settings: Settings) -> pwd.struct_passwd | None:
    """The user tasks run as when the node is root; None when they run as the node's user."""
    name = settings.task_user or DEFAULT_TASK_USER
    try:
        user = pwd.getpwnam(name)
    except KeyError:
        raise RunnerError(f"--task-user {name}: no such user on this host") from None
    if os.geteuid() != 0:
        if settings.task_user and user.pw_uid != os.geteuid():
            raise RunnerError(
                f"--task-user {name} needs the node to run as root; not root, tasks run as "
                "the node's own user"
            )
        return None
    if user.pw_uid == 0:
        raise RunnerError(
            f"--task-user {name} is root: clients' commands would run with every privilege; "
            f"name an unprivileged user (default {DEFAULT_TASK_USER})"
        )
    return user


@dataclass(frozen=True)
class Confinement:
    """What a task runs inside: the wrapper command before its own, its folder's owner, and
    the PID namespaces (None where the node cannot make them)."""

    wrapper: tuple[str, ...]
    user: pwd.struct_passwd | None
    pid_namespaces: PidNamespaces | None
    description: str
    warning: str | None

    def chown(self, folder: str) -> None:
        """Hand the task's fresh folder to the user it runs as."""
        if self.user is not None:
            os.chown(folder, self.user.pw_uid, self.user.pw_gid)

    def starting(self) -> contextlib.AbstractContextManager[None]:
        """Wraps the start of a task's process: its PID namespace, where there are any."""
        if self.pid_namespaces is None:
            return contextlib.nullcontext()
        return self.pid_namespaces.for_next_child()


def confinement(settings: Settings) -> Confinement:
    """The confinement these settings and this host allow; RunnerError when it cannot be had."""
    user = _task_user(settings)
    wrapper = [
        _tool("prlimit"),
        f"--nproc={settings.task_processes}",
        f"--as={settings.task_memory_mb * 1024 * 1024}",
        f"--cpu={settings.task_cpu}",
        "--",
    ]
    if user is not None:
        wrapper += [
            _tool("setpriv"),
            f"--reuid={user.pw_uid}",
            f"--regid={user.pw_gid}",
            "--clear-groups",
            "--nnp",
            "--pdeathsig=KILL",
            "--",
        ]
    warning = None
    try:
        namespaces: PidNamespaces | None = PidNamespaces()
    except OSError as error:
        warning = (
            f"no PID namespace per task ({error.strerror}): a process a task starts can "
            "outlive the task if it calls setsid"
        )
        namespaces = None
    who = f"as {user.pw_name} (uid {user.pw_uid})" if user else "as the node's user"
    where = "in a PID namespace each" if namespaces else "in a process group each"
    description = (
        f"tasks run {who} {where}; limits: {settings.task_processes} processes of that user, "
        f"{settings.task_memory_mb} MiB address space and {settings.task_cpu} s CPU per process"
    )
    return Confinement(tuple(wrapper), user, namespaces, description, warning)
