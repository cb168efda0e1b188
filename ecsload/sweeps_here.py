"""The ecs-load sweeps running on this machine, so that a level can say another ran beside it.

Why: two sweeps on one machine share its cores, and two local nodes share them too. Each
measured about half of what it measures alone (218-247 req/s beside another, 436-492
alone), and nothing said so: a CI machine running two pipelines' smoke loads at once
would read that as a regression. Each sweep's levels server registers it here for the
sweep's life (`registered`): a file named by its pid in REGISTRY, which holds the sweep's
run folder and start, under an exclusive flock. The kernel lets the lock go when the
process ends, however it ends, so a file whose lock nobody holds is a sweep that is gone:
it is ignored (a sweep killed outright leaves it) until a sweep of its pid takes it over.
A level's Locust looks here each second (`others`); the sweep that is its own is its
nearest registered ancestor (`own_sweep`). Standard library only.
"""

import contextlib
import errno
import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ecsload.timestamps import iso_utc

REGISTRY = Path("/tmp/ecs-load-sweeps")  # one per machine, whatever TMPDIR each sweep has
SHARED_FOLDER = 0o1777  # every user's sweeps register here, each removes only its own
MAX_ENTRY = 1 << 16  # bytes of one sweep's file read at most


def registry() -> Path:
    """REGISTRY, made if it is not there (a folder anyone may add to, as /tmp is); an
    OSError if it is not a folder (a link someone put there is not followed)."""
    with contextlib.suppress(FileExistsError):
        REGISTRY.mkdir()
        REGISTRY.chmod(SHARED_FOLDER)  # not the umask's: the next user's sweep adds to it
    if REGISTRY.is_symlink() or not REGISTRY.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(REGISTRY))
    return REGISTRY


@contextlib.contextmanager
def registered(run_dir: str) -> Iterator[bool]:
    """This process registered as the sweep of `run_dir` until the block ends; whether it
    could be (a registry it cannot write to: the sweep runs, unseen by others)."""
    try:
        fd = os.open(registry() / f"{os.getpid()}.json", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW
                     | os.O_CLOEXEC, 0o644)  # fmt: skip
    except OSError:
        yield False
        return
    try:
        # Blocking: a reader's shared lock lasts microseconds, and a file of this pid is a
        # gone process's (its lock went with it).
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        entry = {
            "pid": os.getpid(),
            "run": os.path.abspath(run_dir),
            "started": iso_utc(time.time() * 1000),
        }
        os.write(fd, json.dumps(entry).encode())
    except OSError:
        os.close(fd)
        yield False
        return
    try:
        yield True
    finally:
        forget()  # before the lock goes: never seen gone
        os.close(fd)


def forget() -> None:
    """This process's registration removed, if any: also on a way out that skips `registered`'s
    end (os._exit, on a stop before the levels server's imports are done)."""
    with contextlib.suppress(OSError):
        os.unlink(REGISTRY / f"{os.getpid()}.json")


def others(own: int | None) -> list[dict[str, Any]]:
    """The sweeps running on this machine but `own` (its levels server's pid): each file's
    entry (`pid`, `run`, `started`) whose lock is held."""
    try:
        names = sorted(os.listdir(registry()), key=lambda name: (len(name), name))  # by pid
    except OSError:  # no registry to read: no sweep can have registered
        return []
    found = []
    for name in names:
        pid = name.removesuffix(".json")
        if not pid.isdigit() or int(pid) == own:
            continue
        entry = running_entry(REGISTRY / name)
        if entry is not None:
            found.append(entry)
    return found


def running_entry(path: Path) -> dict[str, Any] | None:
    """The sweep's entry in `path` if its lock is held (it runs), else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:  # gone meanwhile, or not ours to read
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return None  # nobody holds it: that sweep is gone
        except OSError as error:
            if error.errno != errno.EWOULDBLOCK:
                return None
        text = os.read(fd, MAX_ENTRY)
    finally:
        os.close(fd)
    try:
        entry = json.loads(text)
    except ValueError:  # registering this very moment: its pid alone
        entry = None
    pid = int(path.name.removesuffix(".json"))
    if not isinstance(entry, dict):
        return {"pid": pid, "run": None, "started": None}
    return {"pid": pid, "run": entry.get("run"), "started": entry.get("started")}


def own_sweep() -> int | None:
    """The pid of the sweep this process is part of: its nearest registered ancestor (a
    level's Locust is its levels server's grandchild, a --processes worker its great-
    grandchild); None for a Locust run by hand. Nearest: a sweep started by a process that
    is itself registered (a test) sees that one as another sweep."""
    pid = os.getpid()
    for _ in range(64):
        if pid <= 1:
            break
        if (REGISTRY / f"{pid}.json").exists():
            return pid
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat.rsplit(")", 1)[1].split()[1])  # the field after the state: ppid
    return None


class SeenBeside:
    """The other sweeps seen running while a level ran (`look` at its start, each second and
    at its end), each once, for level.json's `other_sweeps`."""

    def __init__(self) -> None:
        self.own = own_sweep()
        self.seen: dict[int, dict[str, Any]] = {}

    def look(self) -> None:
        for entry in others(self.own):
            if self.seen.get(entry["pid"], {}).get("run") is None:  # first seen, or registering
                self.seen[entry["pid"]] = entry

    def entries(self) -> list[dict[str, Any]]:
        return [self.seen[pid] for pid in sorted(self.seen)]
