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
- Limits on processes, address space, CPU time and file size (RLIMIT_NPROC, RLIMIT_AS,
  RLIMIT_CPU, RLIMIT_FSIZE) are set by util-linux's `prlimit`, the first program of the task.
- Where the node may make mount namespaces (as root), each task gets a private /tmp and
  /dev/shm: a mount namespace of its own with a fresh tmpfs of --task-files MiB on each,
  made the way the PID namespace is (for the next child of the node's thread, which then
  goes back). /tmp is the task's folder (its HOME and working directory). The namespace,
  and with it the files, is gone when the task's last process is: nothing a task writes
  outlives it. Elsewhere the node makes a folder per task and removes it afterwards, and a
  task can still leave files in the shared /tmp and /dev/shm (up to RLIMIT_FSIZE each).

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
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ecsnode.runners.base import RunnerError
from ecsnode.settings import Settings

CLONE_NEWPID = 0x20000000
CLONE_NEWNS = 0x00020000
"""From <sched.h>; Python 3.12 has os.unshare and os.setns, 3.11 calls libc through ctypes."""
MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x4000, 0x40000  # <sys/mount.h>
PRIVATE_FOLDER = "/tmp"
SHARED_MEMORY = "/dev/shm"
DEFAULT_TASK_USER = "nobody"
TOOLS_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
"""Where the wrappers are looked up: the system's own folders (the node may be root)."""


LIBC = ctypes.CDLL(None, use_errno=True)


def _call(result: int, what: str) -> None:
    """OSError naming `what` when a libc call failed."""
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{what}: {os.strerror(number)}")


def _mount(target: str, kind: str | None, flags: int, data: str = "") -> None:
    """mount(2) in the calling thread's mount namespace."""
    fstype = kind.encode() if kind else None
    source = b"ecs-task" if kind else None
    _call(LIBC.mount(source, target.encode(), fstype, flags, data.encode()), f"mount {target}")


class Namespaces:
    """Gives the next child that the calling thread starts a namespace of its own (`flag`),
    set up by `prepare`, which runs inside it before the child starts.

    Made (and so probed, once through: OSError where the node may not make them) on the
    thread that starts the tasks, the event loop's.
    """

    def __init__(self, flag: int, name: str, prepare: Callable[[], None] | None = None) -> None:
        self._flag, self._name, self._prepare = flag, name, prepare
        self._own = os.open(f"/proc/self/ns/{name}", os.O_RDONLY | os.O_CLOEXEC)
        try:
            self._enter()
            self._leave()
        except OSError:
            os.close(self._own)
            raise

    def _enter(self) -> None:
        # setns(2) back into a mount namespace moves the thread to its root folder: keep the
        # working folder to return to, or every relative path of the node (--ready-file,
        # --log-file, --htpasswd) would be read from / after the first task.
        self._cwd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        _call(LIBC.unshare(self._flag), f"unshare({self._name})")
        if self._prepare:
            try:
                self._prepare()
            except OSError:
                self._leave()
                raise

    def _leave(self) -> None:
        try:
            _call(LIBC.setns(self._own, self._flag), f"setns({self._name})")
            os.fchdir(self._cwd)
        finally:
            os.close(self._cwd)

    @contextlib.contextmanager
    def for_next_child(self) -> Iterator[None]:
        """Within the block, the thread's next child gets the new namespace; a failure to
        make it or to leave it is the runner's (RunnerError), not the task's."""
        try:
            self._enter()
        except OSError as error:
            raise RunnerError(f"cannot make the task's {self._name} namespace: {error}") from None
        try:
            yield
        finally:
            try:
                self._leave()
            except OSError as error:
                raise RunnerError(f"cannot leave the {self._name} namespace: {error}") from None


def private_files(megabytes: int, user: pwd.struct_passwd | None) -> Namespaces:
    """Mount namespaces with a fresh tmpfs on /tmp (the task's folder, its user's) and on
    /dev/shm, MEGABYTES each; nothing mounted there reaches the node's own namespace."""
    size = f"size={megabytes}m"
    owner = f",uid={user.pw_uid},gid={user.pw_gid}" if user else ""

    def prepare() -> None:
        _mount("/", None, MS_REC | MS_PRIVATE)
        _mount(PRIVATE_FOLDER, "tmpfs", MS_NOSUID | MS_NODEV, f"{size},mode=0700{owner}")
        _mount(SHARED_MEMORY, "tmpfs", MS_NOSUID | MS_NODEV, f"{size},mode=1777")

    return Namespaces(CLONE_NEWNS, "mnt", prepare)


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
    the namespaces each task gets (PID; mount, for its private /tmp and /dev/shm), None
    where the node cannot make them."""

    wrapper: tuple[str, ...]
    user: pwd.struct_passwd | None
    pid_namespaces: Namespaces | None
    file_namespaces: Namespaces | None
    description: str
    warnings: tuple[str, ...]

    @property
    def private_files(self) -> bool:
        """True when the task's folder is its private /tmp, which goes with its namespace;
        False when the node makes a folder per task and removes it."""
        return self.file_namespaces is not None

    def chown(self, folder: str) -> None:
        """Hand the task's fresh folder to the user it runs as."""
        if self.user is not None:
            os.chown(folder, self.user.pw_uid, self.user.pw_gid)

    @contextlib.contextmanager
    def starting(self) -> Iterator[None]:
        """Wraps the start of a task's process: its namespaces, where there are any."""
        with contextlib.ExitStack() as stack:
            for namespaces in (self.pid_namespaces, self.file_namespaces):
                if namespaces is not None:
                    stack.enter_context(namespaces.for_next_child())
            yield


def _namespaces(make: Callable[[], Namespaces], lacking: str) -> tuple[Namespaces | None, str]:
    """Namespaces from `make`, or None and a warning that says what tasks lack without."""
    try:
        return make(), ""
    except OSError as error:
        return None, f"no {lacking} per task ({error.strerror}): "


def confinement(settings: Settings) -> Confinement:
    """The confinement these settings and this host allow; RunnerError when it cannot be had."""
    user = _task_user(settings)
    wrapper = [
        _tool("prlimit"),
        f"--nproc={settings.task_processes}",
        f"--as={settings.task_memory_mb * 1024 * 1024}",
        f"--cpu={settings.task_cpu}",
        f"--fsize={settings.task_files_mb * 1024 * 1024}",
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
    warnings = []
    pids, warning = _namespaces(lambda: Namespaces(CLONE_NEWPID, "pid"), "PID namespace")
    if warning:
        warnings.append(f"{warning}a process a task starts can outlive it if it calls setsid")
    files, warning = _namespaces(
        lambda: private_files(settings.task_files_mb, user), "private /tmp and /dev/shm"
    )
    if warning:
        warnings.append(
            f"{warning}files a task writes there outlive it, up to {settings.task_files_mb} MiB "
            "each"
        )
    who = f"as {user.pw_name} (uid {user.pw_uid})" if user else "as the node's user"
    where = "in a PID namespace each" if pids else "in a process group each"
    folder = (
        f"a private /tmp (its folder) and /dev/shm of {settings.task_files_mb} MiB each"
        if files
        else "a folder of its own"
    )
    description = (
        f"tasks run {who} {where}, with {folder}; limits: {settings.task_processes} processes "
        f"of that user, {settings.task_memory_mb} MiB address space, {settings.task_cpu} s CPU "
        f"and {settings.task_files_mb} MiB files per process"
    )
    return Confinement(tuple(wrapper), user, pids, files, description, tuple(warnings))
